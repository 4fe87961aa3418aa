package backoff_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/backoff"
)

// attempts covers every attempt from 1 to 1e6 in the exhaustive test and a
// sample of extreme ones in the others.
var extremeAttempts = []int{1, 2, 3, 30, 62, 63, 64, 65, 1000, 1e6, math.MaxInt32, math.MaxInt - 1, math.MaxInt}

var extremeDurations = []time.Duration{
	0, 1, time.Nanosecond * 3, time.Millisecond, time.Second, time.Hour,
	math.MaxInt64 / 3, math.MaxInt64 / 2, math.MaxInt64 - 1, backoff.MaxDuration,
}

func strategies(base, cap time.Duration, j backoff.Jitter, seed uint64) []backoff.Backoff {
	return []backoff.Backoff{
		backoff.Exponential(base, 2, cap).WithJitter(j).WithRand(seeded(seed)),
		backoff.Exponential(base, 1.5, cap).WithJitter(j).WithRand(seeded(seed)),
		backoff.Exponential(base, math.MaxFloat64, cap).WithJitter(j).WithRand(seeded(seed)),
		backoff.Linear(base, base, cap).WithJitter(j).WithRand(seeded(seed)),
		backoff.Linear(base, backoff.MaxDuration, cap).WithJitter(j).WithRand(seeded(seed)),
	}
}

// TestDelaysStayWithinCapForExtremeInputs checks [0, cap] for every jitter,
// every shape, bases and caps up to the largest Duration, and attempt
// numbers up to math.MaxInt, with the previous delay fed back in.
func TestDelaysStayWithinCapForExtremeInputs(t *testing.T) {
	for _, j := range jitters {
		for _, base := range extremeDurations {
			for _, cap := range extremeDurations {
				if cap < base {
					continue // the constructors panic, as TestCapBelowBasePanics checks
				}
				for i, s := range strategies(base, cap, j, uint64(base^cap)) {
					prev := time.Duration(0)
					for _, n := range extremeAttempts {
						d := s.Delay(n, prev)
						require.GreaterOrEqual(t, d, time.Duration(0), "jitter %v shape %d base %d cap %d attempt %d", j, i, base, cap, n)
						require.LessOrEqual(t, d, cap, "jitter %v shape %d base %d cap %d attempt %d", j, i, base, cap, n)
						prev = d
					}
					// Hostile previous delays must not break decorrelated jitter.
					for _, p := range []time.Duration{-1, math.MinInt64, backoff.MaxDuration} {
						d := s.Delay(5, p)
						require.GreaterOrEqual(t, d, time.Duration(0))
						require.LessOrEqual(t, d, cap)
					}
				}
			}
		}
	}
}

// TestEveryAttemptUpToAMillion walks attempts 1..1e6 for each jitter with
// realistic parameters and the largest ones.
func TestEveryAttemptUpToAMillion(t *testing.T) {
	if testing.Short() {
		t.Skip("exhaustive walk; run without -short")
	}
	for _, j := range jitters {
		for _, cap := range []time.Duration{2 * time.Second, backoff.MaxDuration} {
			s := backoff.Exponential(5*time.Millisecond, 2, cap).WithJitter(j).WithRand(seeded(9))
			prev := time.Duration(0)
			for n := 1; n <= 1e6; n++ {
				d := s.Delay(n, prev)
				if d < 0 || d > cap {
					t.Fatalf("jitter %v cap %v attempt %d: delay %v outside [0, cap]", j, cap, n, d)
				}
				prev = d
			}
		}
	}
}

// FuzzDelay: for any base, factor, cap and attempt, Exponential never panics
// (beyond its documented argument checks) and stays within [0, cap].
func FuzzDelay(f *testing.F) {
	f.Add(int64(100*time.Millisecond), 2.0, int64(10*time.Second), 5, int64(0), uint8(1))
	f.Add(int64(math.MaxInt64), 1.0, int64(math.MaxInt64), math.MaxInt, int64(math.MaxInt64), uint8(3))
	f.Add(int64(1), 1e308, int64(1), 2, int64(-1), uint8(5))
	f.Fuzz(func(t *testing.T, base int64, factor float64, cap int64, attempt int, prev int64, mode uint8) {
		if base < 0 || cap < base || !(factor >= 1) || math.IsInf(factor, 0) {
			return // documented panics, covered elsewhere
		}
		j := jitters[int(mode)%len(jitters)]
		s := backoff.Exponential(time.Duration(base), factor, time.Duration(cap)).WithJitter(j).WithRand(seeded(uint64(base)))
		d := s.Delay(attempt, time.Duration(prev))
		if d < 0 || d > time.Duration(cap) {
			t.Fatalf("delay %v outside [0, %v]", d, time.Duration(cap))
		}
	})
}
