package main

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEveryClientWritesAtLeastOnce(t *testing.T) {
	for _, s := range strategies() {
		for _, n := range []int{1, 10, 60} {
			for seed := range uint64(5) {
				calls, last := occRun(n, s.backoff, rand.New(rand.NewPCG(seed, 7)))
				assert.GreaterOrEqual(t, calls, n, "%s, N=%d, seed %d", s.name, n, seed)
				assert.Positive(t, last, "%s, N=%d, seed %d", s.name, n, seed)
			}
		}
	}
}

func TestOneClientWritesOnceAfterFourHops(t *testing.T) {
	for _, s := range strategies() {
		calls, last := occRun(1, s.backoff, rand.New(rand.NewPCG(1, 1)))
		assert.Equal(t, 1, calls, s.name)
		// Read there and back, write there and back: four hops of about 10.
		assert.InDelta(t, 40, float64(last)/float64(unit), 16, s.name)
	}
}

func TestTwoClientsWithoutBackoffMakeAtLeastThreeWrites(t *testing.T) {
	// Both read version 0 before either writes (hops are ~10, far apart
	// from 0), so exactly one of the first two writes loses.
	calls, _ := occRun(2, strategies()[0].backoff, rand.New(rand.NewPCG(3, 3)))
	assert.GreaterOrEqual(t, calls, 3)
}

func TestSweepIsDeterministicForASeed(t *testing.T) {
	ns := []int{10, 40}
	a := occSweep(ns, 5, 42)
	b := occSweep(ns, 5, 42)
	require.Len(t, a, len(strategies()))
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, occSweep(ns, 5, 43), "another seed gives other numbers")
}

func TestSweepReportsEveryStrategyAtEveryN(t *testing.T) {
	pts := occSweep([]int{10, 20, 30}, 3, 1)
	for i, line := range pts {
		require.Len(t, line, 3)
		for j, p := range line {
			assert.Equal(t, strategies()[i].name, p.Strategy)
			assert.Equal(t, []int{10, 20, 30}[j], p.N)
			assert.Equal(t, 3, p.Runs)
			assert.GreaterOrEqual(t, p.Calls.Mean, float64(p.N))
		}
	}
}

// The study's central findings, which any faithful reproduction shows by a
// wide margin at N = 100 (see docs/retry-storms.md for the full numbers).
func TestJitterBeatsNoJitterAtHundredClients(t *testing.T) {
	pts := occSweep([]int{100}, 10, 1)
	by := map[string]occPoint{}
	for _, line := range pts {
		by[line[0].Strategy] = line[0]
	}
	full := by["full jitter"]
	assert.Greater(t, by["no backoff"].Calls.Mean, 2*full.Calls.Mean, "no backoff makes far more calls than full jitter")
	assert.Greater(t, by["exponential"].Calls.Mean, 1.5*full.Calls.Mean, "exponential without jitter makes more calls than full jitter")
	assert.Greater(t, by["exponential"].Time.Mean, 5*full.Time.Mean, "exponential without jitter takes far longer than full jitter")
	assert.Less(t, full.Time.Mean, by["equal jitter"].Time.Mean, "equal jitter takes longer than full jitter")
}

func TestStrategiesIncludeDecorrelatedWithinUnderItsOwnName(t *testing.T) {
	names := map[string]bool{}
	for _, s := range strategies() {
		assert.False(t, names[s.name], "%q appears twice", s.name)
		names[s.name] = true
	}
	assert.Len(t, names, 6)
	assert.True(t, names["decorrelated-within jitter"])
}

// While no client's 3·prev passes the cap, drawing inside the cap and
// clamping to it are the same draw, so with the same seeds the two
// decorrelated strategies give the same runs.
func TestDecorrelatedWithinMatchesDecorrelatedBelowTheCap(t *testing.T) {
	by := map[string]occPoint{}
	for _, line := range occSweep([]int{20}, 10, 1) {
		by[line[0].Strategy] = line[0]
	}
	dec, within := by["decorrelated jitter"], by["decorrelated-within jitter"]
	require.NotZero(t, dec.Runs)
	require.NotZero(t, within.Runs)
	assert.Equal(t, dec.Calls, within.Calls)
	assert.Equal(t, dec.Time, within.Time)
}

// Late in a long contention the clamped draw waits the cap where the other
// draws inside it, so the last clients finish sooner; the calls barely move.
func TestDecorrelatedWithinFinishesSoonerInLongContention(t *testing.T) {
	by := map[string]occPoint{}
	for _, line := range occSweep([]int{190}, 20, 1) {
		by[line[0].Strategy] = line[0]
	}
	dec, within := by["decorrelated jitter"], by["decorrelated-within jitter"]
	require.NotZero(t, dec.Runs)
	require.NotZero(t, within.Runs)
	assert.Less(t, within.Time.Mean, 0.9*dec.Time.Mean, "drawing inside the cap finishes at least 10% sooner")
	assert.InEpsilon(t, dec.Calls.Mean, within.Calls.Mean, 0.03, "and makes about as many calls")
}

// The study's simulator sleeps base·2^attempt with its attempt counter at 1
// after the first failure: its first sleeps are 10, 20, 40 for base 5. Its
// decorrelated jitter draws its first sleep from U(base, 3·base).
func TestStrategiesSleepAsTheStudysSimulator(t *testing.T) {
	by := map[string]strategy{}
	for _, s := range strategies() {
		by[s.name] = s
	}
	exp := by["exponential"].backoff
	for n, want := range []time.Duration{10, 20, 40, 80, 160, 320, 640, 1280, 2000, 2000} {
		assert.Equal(t, want*unit, exp.Delay(n+1, 0), "sleep after failure %d", n+1)
	}
	for _, name := range []string{"decorrelated jitter", "decorrelated-within jitter"} {
		b := by[name].backoff.WithRand(rand.New(rand.NewPCG(1, 2)))
		for range 1000 {
			d := b.Delay(1, 0)
			require.GreaterOrEqual(t, d, 5*unit, name)
			require.LessOrEqual(t, d, 15*unit, name)
		}
	}
}

// publishedCallsAt100 are the writes per run at N = 100 of the study's own
// simulator (aws-samples/aws-arch-backoff-simulator, src/backoff_simulator.py,
// base 5, cap 2000, mean of 100 runs), run for this comparison.
var publishedCallsAt100 = map[string]float64{
	"no backoff":          2424,
	"exponential":         1851,
	"full jitter":         795,
	"equal jitter":        813,
	"decorrelated jitter": 999,
}

// TestPart1ReproducesThePublishedSimulator: every one of the study's
// strategies makes within 2% of the simulator's calls at N = 100.
func TestPart1ReproducesThePublishedSimulator(t *testing.T) {
	if testing.Short() {
		t.Skip("100 runs of every strategy at N = 100; run without -short")
	}
	for _, line := range occSweep([]int{100}, 100, 1) {
		p := line[0]
		want, ok := publishedCallsAt100[p.Strategy]
		if !ok {
			continue // not in the study
		}
		assert.InEpsilon(t, want, p.Calls.Mean, 0.02, "%s: %.0f calls, the simulator %.0f", p.Strategy, p.Calls.Mean, want)
	}
}
