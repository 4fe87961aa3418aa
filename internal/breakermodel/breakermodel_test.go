package breakermodel

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/bulkhead"
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
			model := New(cfg)
			start := time.Now()
			r := rand.New(rand.NewPCG(3, 4))
			type call struct {
				real  breaker.Permit
				model Permit
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
					o := Succeeded
					switch {
					case r.IntN(8) == 0:
						err, o = bulkhead.ErrFull, Ignored
					case r.Float64() < failureRate(now):
						err, o = errDown, Failed
					}
					c.real.Done(err)
					model.Done(c.model, o, now)
				} else {
					rp, err := real.Allow()
					mp, wait, ok := model.Allow(now)
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
				require.Equal(t, st, model.StateAt(now), "step %d at %v: state", i, now)
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
func hintCase(m *Model, now, hint time.Duration) string {
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

// The half-open hint rules give, for a call turned away while a probe is
// in flight, the hints they are named for.
func TestBreakerModelHalfOpenHintRules(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		hint               HalfOpenHint
		at10, at300, at900 time.Duration // the hint when the probe is that old
	}{
		{HintProbeAge, 20 * ms, 300 * ms, 100 * ms},
		{HintSlotFrees, 990 * ms, 700 * ms, 100 * ms},
		{HintNone, 0, 0, 0},
	} {
		m := New(breaker.Config{WindowSize: 10, MinCalls: 5, OpenFor: time.Second})
		m.Hint = tc.hint
		for range 5 {
			p, _, ok := m.Allow(0)
			require.True(t, ok)
			m.Done(p, Failed, 0)
		}
		require.Equal(t, breaker.Open, m.StateAt(0))
		_, _, ok := m.Allow(time.Second)
		require.True(t, ok, "the probe")

		for _, c := range []struct{ age, want time.Duration }{{10 * ms, tc.at10}, {300 * ms, tc.at300}, {900 * ms, tc.at900}} {
			_, hint, ok := m.Allow(time.Second + c.age)
			require.False(t, ok)
			assert.Equal(t, c.want, hint, "rule %d, probe %v old", tc.hint, c.age)
		}
	}
}
