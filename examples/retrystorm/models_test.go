package main

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/retry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var errDown = errors.New("down")

// failureRate returns the share of calls that fail in a phase of a script:
// healthy, flaky, down and back, every three seconds.
func failureRate(since time.Duration) float64 {
	return []float64{0, 0.5, 1, 0.2}[int(since/(3*time.Second))%4]
}

// The budget model must decide every retry exactly as retry.Budget does,
// driven through retry.Policy, on the same script of requests in time.
func TestBudgetModelDecidesAsRetryBudget(t *testing.T) {
	for _, cfg := range []retry.BudgetConfig{
		{Ratio: 0.1, MinPerSecond: -1},
		{Ratio: 0.5, MinPerSecond: -1, TTL: 2 * time.Second},
	} {
		synctest.Test(t, func(t *testing.T) {
			real := retry.NewBudget(cfg)
			p := retry.New(retry.Config{MaxAttempts: 2, Backoff: backoff.Constant(0), Budget: real})
			model := newBudgetModel(cfg)
			r := rand.New(rand.NewPCG(1, 2))
			start := time.Now()
			var allowed, denied int
			for i := range 3000 {
				time.Sleep(time.Duration(r.IntN(40)) * time.Millisecond)
				now := time.Since(start)
				fails := r.Float64() < failureRate(now)
				calls := 0
				err := p.Do(context.Background(), func(context.Context) error {
					calls++
					if calls == 1 && fails {
						return errDown
					}
					return nil
				})
				model.request(now)
				want := fails && model.allowRetry(now)
				require.Equal(t, want, calls == 2, "request %d at %v (ratio %v)", i, now, cfg.Ratio)
				if fails {
					if want {
						allowed++
					} else {
						denied++
						assert.ErrorIs(t, err, retry.ErrBudgetExhausted)
					}
				}
			}
			assert.Positive(t, allowed, "the script exercises allowed retries")
			assert.Positive(t, denied, "the script exercises denied retries")
		})
	}
}

// The breaker model must admit, reject (with the same RetryAfter) and change
// state exactly as breaker.Breaker does, on the same script of calls.
func TestBreakerModelDecidesAsBreaker(t *testing.T) {
	for _, cfg := range []breaker.Config{
		{},
		{WindowSize: 20, MinCalls: 10, FailureRate: 0.3, OpenFor: time.Second, MaxOpenFor: 4 * time.Second, HalfOpenProbes: 2},
		// Open for less than calls take, so that probes outlive their slots.
		{WindowSize: 10, MinCalls: 5, OpenFor: 30 * time.Millisecond, MaxOpenFor: 120 * time.Millisecond, HalfOpenProbes: 2},
	} {
		synctest.Test(t, func(t *testing.T) {
			real := breaker.New(cfg)
			model := newBreakerModel(cfg)
			start := time.Now()
			r := rand.New(rand.NewPCG(3, 4))
			type call struct {
				real  breaker.Permit
				model permit
			}
			var inFlight []call
			seen := map[breaker.State]bool{}
			halfOpenHints := 0
			for i := range 20000 {
				time.Sleep(time.Duration(r.IntN(10)) * time.Millisecond)
				now := time.Since(start)
				if len(inFlight) > 0 && r.IntN(2) == 0 {
					// Finish a random call in flight.
					j := r.IntN(len(inFlight))
					c := inFlight[j]
					inFlight = append(inFlight[:j], inFlight[j+1:]...)
					failed := r.Float64() < failureRate(now)
					var err error
					if failed {
						err = errDown
					}
					c.real.Done(err)
					model.done(c.model, failed, now)
				} else {
					rp, err := real.Allow()
					mp, wait, ok := model.allow(now)
					if !ok && model.state == breaker.HalfOpen && wait > 0 {
						halfOpenHints++
					}
					require.Equal(t, ok, err == nil, "call %d at %v: admitted", i, now)
					if ok {
						inFlight = append(inFlight, call{rp, mp})
					} else {
						var hint interface{ RetryAfter() time.Duration }
						require.ErrorAs(t, err, &hint)
						require.Equal(t, wait, hint.RetryAfter(), "call %d at %v: RetryAfter", i, now)
					}
				}
				st := real.State()
				require.Equal(t, st, model.stateAt(now), "step %d at %v: state", i, now)
				seen[st] = true
			}
			assert.Len(t, seen, 3, "the script visits every state")
			assert.Positive(t, halfOpenHints, "the script exercises rejections while half-open, with their hint")
		})
	}
}
