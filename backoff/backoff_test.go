package backoff_test

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/magicmagnets/resilience/backoff"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func seeded(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

var jitters = []backoff.Jitter{
	backoff.None, backoff.Full, backoff.Equal, backoff.Decorrelated,
	backoff.DecorrelatedWithin, backoff.Proportional(0.2), backoff.Proportional(1),
}

func TestExponentialWithoutJitterDoubles(t *testing.T) {
	b := backoff.Exponential(100*time.Millisecond, 2, 10*time.Second)
	var got []time.Duration
	for n := 1; n <= 9; n++ {
		got = append(got, b.Delay(n, 0))
	}
	assert.Equal(t, []time.Duration{
		100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond,
		1600 * time.Millisecond, 3200 * time.Millisecond, 6400 * time.Millisecond, 10 * time.Second, 10 * time.Second,
	}, got)
}

func TestExponentialFactorOneIsConstant(t *testing.T) {
	b := backoff.Exponential(time.Second, 1, time.Minute)
	assert.Equal(t, time.Second, b.Delay(1000, 0))
}

func TestLinearGrowsByStep(t *testing.T) {
	b := backoff.Linear(time.Second, 500*time.Millisecond, 2*time.Second)
	assert.Equal(t, time.Second, b.Delay(1, 0))
	assert.Equal(t, 1500*time.Millisecond, b.Delay(2, 0))
	assert.Equal(t, 2*time.Second, b.Delay(3, 0))
	assert.Equal(t, 2*time.Second, b.Delay(math.MaxInt, 0))
}

func TestConstantIgnoresAttempt(t *testing.T) {
	b := backoff.Constant(3 * time.Second)
	for _, n := range []int{-5, 0, 1, 2, 1e6, math.MaxInt} {
		assert.Equal(t, 3*time.Second, b.Delay(n, 0))
	}
}

func TestAttemptBelowOneCountsAsOne(t *testing.T) {
	b := backoff.Exponential(time.Second, 2, time.Hour)
	assert.Equal(t, time.Second, b.Delay(0, 0))
	assert.Equal(t, time.Second, b.Delay(math.MinInt, 0))
}

func TestFullJitterDrawsBelowTheExponentialCurve(t *testing.T) {
	b := backoff.Exponential(100*time.Millisecond, 2, 10*time.Second).WithJitter(backoff.Full).WithRand(seeded(1))
	for n := 1; n <= 20; n++ {
		ceiling := min(10*time.Second, 100*time.Millisecond<<(n-1))
		for range 200 {
			d := b.Delay(n, 0)
			require.GreaterOrEqual(t, d, time.Duration(0))
			require.Less(t, d, ceiling+1)
		}
	}
}

func TestEqualJitterKeepsAtLeastHalf(t *testing.T) {
	b := backoff.Exponential(time.Second, 2, time.Minute).WithJitter(backoff.Equal).WithRand(seeded(2))
	for range 1000 {
		d := b.Delay(3, 0) // un-jittered 4s
		require.GreaterOrEqual(t, d, 2*time.Second)
		require.LessOrEqual(t, d, 4*time.Second)
	}
}

func TestDecorrelatedJitterFollowsPreviousDelay(t *testing.T) {
	base, cap := 5*time.Millisecond, 2*time.Second
	b := backoff.Exponential(base, 2, cap).WithJitter(backoff.Decorrelated).WithRand(seeded(3))
	prev := time.Duration(0)
	for n := 1; n <= 1000; n++ {
		d := b.Delay(n, prev)
		hi := max(base, 3*max(prev, base))
		require.GreaterOrEqual(t, d, base)
		require.LessOrEqual(t, d, min(cap, hi))
		prev = d
	}
}

// TestDecorrelatedClampsWhileWithinSpreads shows why DecorrelatedWithin
// exists: with the cap far below 3·prev, the clamped form lands on the cap
// about two draws in three, while the within-cap form never piles up there.
func TestDecorrelatedClampsWhileWithinSpreads(t *testing.T) {
	base, cap := 10*time.Millisecond, time.Second
	prev := cap
	clamped := backoff.Exponential(base, 2, cap).WithJitter(backoff.Decorrelated).WithRand(seeded(4))
	within := backoff.Exponential(base, 2, cap).WithJitter(backoff.DecorrelatedWithin).WithRand(seeded(4))
	atCapClamped, atCapWithin := 0, 0
	const draws = 10000
	for range draws {
		if clamped.Delay(50, prev) == cap {
			atCapClamped++
		}
		d := within.Delay(50, prev)
		require.GreaterOrEqual(t, d, base)
		require.LessOrEqual(t, d, cap)
		if d == cap {
			atCapWithin++
		}
	}
	assert.InDelta(t, 2.0/3, float64(atCapClamped)/draws, 0.03)
	assert.Less(t, atCapWithin, 5)
}

func TestProportionalJitterStaysWithinFraction(t *testing.T) {
	b := backoff.Constant(time.Second).WithJitter(backoff.Proportional(0.25)).WithRand(seeded(5))
	lo, hi := time.Hour, time.Duration(0)
	for range 10000 {
		d := b.Delay(1, 0)
		lo, hi = min(lo, d), max(hi, d)
	}
	assert.GreaterOrEqual(t, lo, 750*time.Millisecond)
	assert.LessOrEqual(t, hi, 1250*time.Millisecond)
	assert.Less(t, lo, 760*time.Millisecond, "draws reach down near −25%")
	assert.Greater(t, hi, 1240*time.Millisecond, "draws reach up near +25%")
}

func TestProportionalRejectsBadFraction(t *testing.T) {
	for _, f := range []float64{-0.1, 1.5, math.NaN(), math.Inf(1)} {
		assert.Panics(t, func() { backoff.Proportional(f) }, "fraction %v", f)
	}
}

func TestConstructorsRejectNegativeDurationsAndBadFactors(t *testing.T) {
	assert.PanicsWithValue(t, "backoff: Constant: negative delay -1s", func() { backoff.Constant(-time.Second) })
	assert.Panics(t, func() { backoff.Linear(-1, 0, 0) })
	assert.Panics(t, func() { backoff.Linear(0, -1, 0) })
	assert.Panics(t, func() { backoff.Linear(0, 0, -1) })
	assert.Panics(t, func() { backoff.Exponential(-1, 2, 0) })
	assert.Panics(t, func() { backoff.Exponential(1, 2, -1) })
	assert.PanicsWithValue(t, "backoff: Linear: cap 1s below base 2s", func() { backoff.Linear(2*time.Second, 0, time.Second) })
	for _, f := range []float64{0.5, 0, -2, math.NaN(), math.Inf(1)} {
		assert.Panics(t, func() { backoff.Exponential(1, f, 1) }, "factor %v", f)
	}
}

// TestSeededStrategyIsDeterministic: the same seed gives the same schedule.
func TestSeededStrategyIsDeterministic(t *testing.T) {
	for _, j := range jitters {
		a := backoff.Exponential(time.Millisecond, 2, time.Second).WithJitter(j).WithRand(seeded(42))
		b := backoff.Exponential(time.Millisecond, 2, time.Second).WithJitter(j).WithRand(seeded(42))
		var pa, pb time.Duration
		for n := 1; n <= 50; n++ {
			pa, pb = a.Delay(n, pa), b.Delay(n, pb)
			require.Equal(t, pa, pb, "jitter %v attempt %d", j, n)
		}
	}
}

// TestFullJitterMeanAtSaturation: at saturation full jitter is U(0, cap),
// whose mean is cap/2; 100,000 seeded draws land within 5% of it.
func TestFullJitterMeanAtSaturation(t *testing.T) {
	cap := 20 * time.Second
	b := backoff.Exponential(100*time.Millisecond, 2, cap).WithJitter(backoff.Full).WithRand(seeded(7))
	const draws = 100000
	var sum float64
	for range draws {
		sum += float64(b.Delay(1000, 0))
	}
	mean := sum / draws
	assert.InEpsilon(t, float64(cap)/2, mean, 0.05)
}

func TestStrategyFuncAdapts(t *testing.T) {
	var s backoff.Strategy = backoff.StrategyFunc(func(n int, prev time.Duration) time.Duration {
		return time.Duration(n) * time.Second
	})
	assert.Equal(t, 3*time.Second, s.Delay(3, 0))
}

func TestJitterNames(t *testing.T) {
	names := []string{"none", "full", "equal", "decorrelated", "decorrelated-within", "proportional(0.2)", "proportional(1)"}
	for i, j := range jitters {
		assert.Equal(t, names[i], j.String())
	}
}

// TestJittersAreConstants: the named jitters are constants, which no one
// can reassign, and Proportional jitters compare by their fraction.
func TestJittersAreConstants(t *testing.T) {
	const full, within = backoff.Full, backoff.DecorrelatedWithin // compiles only for constants
	assert.NotEqual(t, full, within)
	assert.Equal(t, backoff.None, backoff.Jitter(0), "the zero value is None")
	assert.Equal(t, backoff.Proportional(0.25), backoff.Proportional(0.25))
	assert.NotEqual(t, backoff.Proportional(0.25), backoff.Proportional(0.5))
	assert.NotEqual(t, backoff.None, backoff.Proportional(0), "a zero fraction is still a proportional jitter")
	assert.Equal(t, "proportional(0)", backoff.Proportional(0).String())
	d := backoff.Constant(time.Second).WithJitter(backoff.Proportional(0)).Delay(1, 0)
	assert.Equal(t, time.Second, d, "a zero fraction spreads nothing")
}

// TestZeroBaseWaitsZeroAtEveryAttempt: 0·factor^n is 0 even where factor^n
// overflows to +Inf (0·Inf is NaN in floating point, which once gave the
// cap).
func TestZeroBaseWaitsZeroAtEveryAttempt(t *testing.T) {
	for _, j := range jitters {
		b := backoff.Exponential(0, 2, time.Minute).WithJitter(j).WithRand(seeded(8))
		prev := time.Duration(0)
		for _, n := range []int{1, 2, 64, 1024, 1025, 1e6, math.MaxInt} {
			prev = b.Delay(n, prev)
			require.Zero(t, prev, "jitter %v attempt %d", j, n)
		}
	}
	assert.Zero(t, backoff.Exponential(0, 2, time.Minute).Delay(1025, 0))
	assert.Zero(t, backoff.Linear(0, 0, time.Minute).Delay(math.MaxInt, 0))
}

// TestCapBelowBasePanics: a cap below the base can never be right; it once
// gave silent zero delays, a hot retry loop.
func TestCapBelowBasePanics(t *testing.T) {
	assert.PanicsWithValue(t, "backoff: Exponential: cap 0s below base 1s", func() { backoff.Exponential(time.Second, 2, 0) })
	assert.PanicsWithValue(t, "backoff: Exponential: cap 1ms below base 2ms",
		func() { backoff.Exponential(2*time.Millisecond, 2, time.Millisecond) })
	assert.NotPanics(t, func() { backoff.Exponential(time.Second, 2, time.Second) }, "a cap equal to the base is a constant delay")
	assert.NotPanics(t, func() { backoff.Exponential(0, 2, 0) })
}

// TestProportionalPilesUpAtTheCap: at the cap, the draws above it are
// clamped to it, so about half the delays are the cap and the mean is
// cap·(1−f/4), as the doc says.
func TestProportionalPilesUpAtTheCap(t *testing.T) {
	cap, f := 10*time.Second, 0.4
	b := backoff.Exponential(time.Second, 2, cap).WithJitter(backoff.Proportional(f)).WithRand(seeded(10))
	const draws = 100000
	atCap, sum := 0, 0.0
	for range draws {
		d := b.Delay(100, 0)
		require.GreaterOrEqual(t, d, time.Duration(float64(cap)*(1-f)))
		require.LessOrEqual(t, d, cap)
		if d == cap {
			atCap++
		}
		sum += float64(d)
	}
	assert.InDelta(t, 0.5, float64(atCap)/draws, 0.01)
	assert.InEpsilon(t, float64(cap)*(1-f/4), sum/draws, 0.005)
}

// TestWithSeedIsDeterministicAndSafeToShare: the same seed gives the same
// schedule, and one seeded strategy can be used from many goroutines (run
// with -race).
func TestWithSeedIsDeterministicAndSafeToShare(t *testing.T) {
	a := backoff.Exponential(time.Millisecond, 2, time.Second).WithJitter(backoff.Full).WithSeed(7)
	b := backoff.Exponential(time.Millisecond, 2, time.Second).WithJitter(backoff.Full).WithSeed(7)
	c := backoff.Exponential(time.Millisecond, 2, time.Second).WithJitter(backoff.Full).WithSeed(8)
	same, differ := true, false
	for n := 1; n <= 20; n++ {
		da, db, dc := a.Delay(n, 0), b.Delay(n, 0), c.Delay(n, 0)
		same = same && da == db
		differ = differ || da != dc
	}
	assert.True(t, same, "the same seed gives the same draws")
	assert.True(t, differ, "another seed gives other draws")

	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for n := 1; n <= 1000; n++ {
				d := a.Delay(n, 0)
				if d < 0 || d > time.Second {
					t.Errorf("delay %v outside [0, 1s]", d)
				}
			}
		})
	}
	wg.Wait()
}
