package main

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/magicmagnets/resilience/backoff"
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
