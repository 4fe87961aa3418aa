package main

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/bulkhead"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var errDown = errors.New("down")

// failureRate returns the share of calls that fail in a phase of a script:
// healthy, flaky, down and back, every three seconds.
func failureRate(since time.Duration) float64 {
	return []float64{0, 0.5, 1, 0.2}[int(since/(3*time.Second))%4]
}

// The breaker model must admit, reject (with the same RetryAfter) and change
// state exactly as breaker.Breaker does, on the same script of calls.
func TestBreakerModelDecidesAsBreaker(t *testing.T) {
	// How each half-open hint was set, over every configuration: by the
	// floor, by the oldest probe's age, or by its slot's release.
	halfOpenHints := map[string]int{}
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
			for i := range 20000 {
				time.Sleep(time.Duration(r.IntN(10)) * time.Millisecond)
				now := time.Since(start)
				if len(inFlight) > 0 && r.IntN(2) == 0 {
					// Finish a random call in flight.
					j := r.IntN(len(inFlight))
					c := inFlight[j]
					inFlight = append(inFlight[:j], inFlight[j+1:]...)
					// Some calls end rejected by a policy inside the breaker,
					// which its default Ignore leaves unrecorded.
					var err error
					o := callSucceeded
					switch {
					case r.IntN(8) == 0:
						err, o = bulkhead.ErrFull, callIgnored
					case r.Float64() < failureRate(now):
						err, o = errDown, callFailed
					}
					c.real.Done(err)
					model.done(c.model, o, now)
				} else {
					rp, err := real.Allow()
					mp, wait, ok := model.allow(now)
					if !ok && model.state == breaker.HalfOpen {
						halfOpenHints[hintCase(model, now, wait)]++
					}
					require.Equal(t, ok, err == nil, "call %d at %v: admitted", i, now)
					if ok {
						inFlight = append(inFlight, call{rp, mp})
					} else {
						hint, ok := resilience.RetryAfter(err)
						require.True(t, ok, "call %d at %v: a rejection carries a hint", i, now)
						require.Equal(t, wait, hint, "call %d at %v: RetryAfter", i, now)
					}
				}
				st := real.State()
				require.Equal(t, st, model.stateAt(now), "step %d at %v: state", i, now)
				seen[st] = true
			}
			assert.Len(t, seen, 3, "the script visits every state")
		})
	}
	for _, c := range []string{"floor", "age", "slot"} {
		assert.Positive(t, halfOpenHints[c], "the script exercises half-open hints set by the %s (%v)", c, halfOpenHints)
	}
}

// hintCase tells which part of the half-open rule set a hint the model gave
// at now: "floor" (OpenFor/50), "age" (the oldest probe's age) or "slot"
// (the time until its slot frees).
func hintCase(m *breakerModel, now, hint time.Duration) string {
	oldest := m.oldestProbe()
	switch hint {
	case oldest + m.baseOpenFor - now:
		return "slot"
	case now - oldest:
		return "age"
	case m.baseOpenFor / 50:
		return "floor"
	}
	return fmt.Sprintf("unexplained hint %v", hint)
}

// The bulkhead model must admit and refuse exactly as bulkhead.Bulkhead
// with the same MaxConcurrent and no queue, on a script of calls that
// start and finish in random order.
func TestBulkheadModelDecidesAsBulkhead(t *testing.T) {
	for _, max := range []int{1, 7, 60} {
		real := bulkhead.New(bulkhead.Config{MaxConcurrent: max})
		model := &bulkheadModel{max: max}
		r := rand.New(rand.NewPCG(5, uint64(max)))
		var inFlight []bulkhead.Permit
		var admitted, refused int
		for i := range 20000 {
			// Lean towards starting calls, so that the bulkhead fills up.
			if len(inFlight) > 0 && r.IntN(5) < 2 {
				j := r.IntN(len(inFlight))
				inFlight[j].Done()
				inFlight = append(inFlight[:j], inFlight[j+1:]...)
				continue
			}
			want := model.allow(len(inFlight))
			p, err := real.Allow()
			require.Equal(t, want, err == nil, "max %d, step %d, %d in flight", max, i, len(inFlight))
			if err != nil {
				assert.ErrorIs(t, err, resilience.ErrRejected)
				refused++
				continue
			}
			inFlight = append(inFlight, p)
			admitted++
		}
		for _, p := range inFlight {
			p.Done()
		}
		assert.Positive(t, admitted, "max %d: the script admits calls", max)
		assert.Positive(t, refused, "max %d: the script fills the bulkhead", max)
	}
}
