package limitalg

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestBoundsDefaultsAreNetflixs(t *testing.T) {
	b := Bounds{}.withDefaults()
	assert.Equal(t, Bounds{Initial: 20, Min: 20, Max: 200}, b)
	assert.Equal(t, Bounds{Initial: 5, Min: 5, Max: 200}, Bounds{Initial: 1, Min: 5}.withDefaults(), "an initial below Min is raised to it")
	assert.Equal(t, Bounds{Initial: 50, Min: 1, Max: 50}, Bounds{Initial: 80, Min: 1, Max: 50}.withDefaults(), "an initial above Max is lowered to it")
}

func TestAIMDBacksOffOnDropAndAddsOneOnBusySuccess(t *testing.T) {
	a := NewAIMD(AIMDConfig{Bounds: Bounds{Initial: 100, Min: 1, Max: 200}})
	assert.Equal(t, 90, a.Update(time.Millisecond, 100, true), "a drop multiplies by 0.9")
	assert.Equal(t, 81, a.Update(time.Millisecond, 90, true))
	assert.Equal(t, 82, a.Update(time.Millisecond, 41, false), "a success with half the limit in flight adds one")
	assert.Equal(t, 82, a.Update(time.Millisecond, 40, false), "a success with less than half in flight holds")
	assert.Equal(t, 73, a.Update(6*time.Second, 82, false), "a call slower than the 5s timeout is a drop")
	assert.Equal(t, 73, a.Limit())
}

func TestAIMDStaysWithinBounds(t *testing.T) {
	a := NewAIMD(AIMDConfig{Bounds: Bounds{Initial: 10, Min: 8, Max: 11}, BackoffRatio: 0.5})
	assert.Equal(t, 8, a.Update(0, 10, true), "10×0.5 is raised to Min")
	for range 10 {
		a.Update(0, 100, false)
	}
	assert.Equal(t, 11, a.Limit(), "growth stops at Max")
}

func TestGradient2GrowsWhileLatencyHoldsAndShrinksWhenItRises(t *testing.T) {
	g := NewGradient2(Gradient2Config{Bounds: Bounds{Initial: 50, Min: 1, Max: 1000}})
	// Steady latency at full use: gradient 1, so limit → 0.8·l + 0.2·(l+4) = l + 0.8.
	assert.Equal(t, 50, g.Update(10*time.Millisecond, 50, false))
	assert.InDelta(t, 50.8, g.limit, 1e-9)
	for range 20 {
		g.Update(10*time.Millisecond, int(g.limit), false)
	}
	assert.InDelta(t, 50.8+20*0.8, g.limit, 1e-9)
	assert.Equal(t, 10*time.Millisecond, g.LongRTT())

	// Latency four times the average: gradient clamps to 0.5, so
	// limit → 0.8·l + 0.2·(0.5·l + 4) = 0.9·l + 0.8.
	before := g.limit
	g.Update(40*time.Millisecond, int(g.limit), false)
	assert.InDelta(t, 0.9*before+0.8, g.limit, 1e-9)
	for range 200 {
		g.Update(40*time.Millisecond, int(g.limit), false)
	}
	assert.Less(t, g.Limit(), int(before), "sustained high latency lowers the limit")
}

func TestGradient2HoldsWhileAppLimited(t *testing.T) {
	g := NewGradient2(Gradient2Config{Bounds: Bounds{Initial: 50, Min: 1, Max: 1000}})
	for range 50 {
		g.Update(2*time.Second, 24, false)
	}
	assert.Equal(t, 50, g.Limit(), "fewer than half in flight: the limit does not move")
}

func TestGradient2DropActsAsTheSteepestGradient(t *testing.T) {
	g := NewGradient2(Gradient2Config{Bounds: Bounds{Initial: 100, Min: 1, Max: 1000}})
	g.Update(10*time.Millisecond, 100, false)
	long := g.LongRTT()
	before := g.limit
	g.Update(time.Millisecond, 1, true)
	assert.InDelta(t, 0.9*before+0.8, g.limit, 1e-9, "a fast drop with little in flight still lowers the limit")
	assert.Equal(t, long, g.LongRTT(), "a drop's latency is not averaged")
}

func TestGradient2CutsAStaleAverage(t *testing.T) {
	g := NewGradient2(Gradient2Config{})
	for range 10 {
		g.Update(100*time.Millisecond, 1, false)
	}
	g.Update(10*time.Millisecond, 1, false)
	// The first ten samples are a plain mean (100ms); the eleventh is
	// averaged with factor 2/601, and the result, over twice the sample, is
	// cut by 5%.
	want := (100*float64(time.Millisecond)*(1-2.0/601) + 10*float64(time.Millisecond)*2.0/601) * 0.95
	assert.InDelta(t, want, float64(g.LongRTT()), 1)
}

func TestGradient2StaysWithinBounds(t *testing.T) {
	g := NewGradient2(Gradient2Config{})
	for range 100 {
		g.Update(time.Second, 200, true)
	}
	assert.Equal(t, 20, g.Limit(), "default Min")
	for range 1000 {
		g.Update(time.Millisecond, 200, false)
	}
	assert.Equal(t, 200, g.Limit(), "default Max")
}

func TestGradient2ZeroLatency(t *testing.T) {
	g := NewGradient2(Gradient2Config{})
	for range 10 {
		g.Update(0, 20, false)
	}
	assert.Equal(t, time.Duration(1), g.LongRTT(), "a zero latency is taken as 1ns")
	assert.Greater(t, g.Limit(), 20)
}

func TestLog10IsNetflixs(t *testing.T) {
	for x, want := range map[int]int{0: 1, 1: 1, 9: 1, 10: 1, 99: 1, 100: 2, 999: 2, 1000: 3, 20000: 4} {
		assert.Equal(t, want, log10(x), "log10(%d)", x)
	}
}

func TestVegas(t *testing.T) {
	v := NewVegas(VegasConfig{Bounds: Bounds{Initial: 100, Min: 1, Max: 1000}, Rand: func() float64 { return 0.999 }})
	// limit 100: log = 2, threshold 2, alpha 6, beta 12.
	assert.Equal(t, 100, v.Update(10*time.Millisecond, 100, false), "the first sample sets the no-load latency")
	assert.Equal(t, 112, v.Update(10*time.Millisecond, 100, false), "no queue: +beta")
	// limit 112, queue = ceil(112·(1−10/10.4)) = 5: between threshold and alpha, +log.
	assert.Equal(t, 114, v.Update(10400*time.Microsecond, 112, false))
	// queue = ceil(114·(1−10/11)) = 11: within [alpha, beta], hold.
	assert.Equal(t, 114, v.Update(11*time.Millisecond, 114, false))
	// queue = ceil(114·(1−10/20)) = 57 > beta: −log.
	assert.Equal(t, 112, v.Update(20*time.Millisecond, 114, false))
	assert.Equal(t, 110, v.Update(10*time.Millisecond, 1, true), "a drop takes log away")
	assert.Equal(t, 110, v.Update(20*time.Millisecond, 10, false), "under half in flight: hold")
	assert.Equal(t, 110, v.Update(5*time.Millisecond, 110, false), "a faster sample becomes the no-load latency")
	assert.Equal(t, 5*time.Millisecond, time.Duration(v.noLoad))
}

func TestVegasProbesTheNoLoadLatency(t *testing.T) {
	v := NewVegas(VegasConfig{Bounds: Bounds{Initial: 20, Min: 20, Max: 20}, ProbeMultiplier: 1, Rand: func() float64 { return 0 }})
	// jitter 0.5 → a probe every 0.5·1·20 = 10 samples.
	v.Update(time.Millisecond, 20, false)
	for range 8 {
		v.Update(50*time.Millisecond, 20, false)
	}
	assert.Equal(t, time.Millisecond, time.Duration(v.noLoad))
	v.Update(50*time.Millisecond, 20, false)
	assert.Equal(t, 50*time.Millisecond, time.Duration(v.noLoad), "the tenth sample is a probe")
}

func TestVegasStaysWithinBounds(t *testing.T) {
	v := NewVegas(VegasConfig{Rand: func() float64 { return 0.999 }})
	for range 200 {
		v.Update(time.Millisecond, 1000, false)
	}
	assert.Equal(t, 200, v.Limit())
	for range 200 {
		v.Update(time.Millisecond, 1000, true)
	}
	assert.Equal(t, 20, v.Limit())
}

func TestRejectProbability(t *testing.T) {
	assert.Equal(t, 0.0, RejectProbability(19, 0, 2, 20, 0.9), "below MinRequests")
	assert.InDelta(t, (100-2*10)/101.0, RejectProbability(100, 10, 2, 20, 0.9), 1e-12)
	assert.Equal(t, 0.0, RejectProbability(100, 60, 2, 20, 0.9), "K·accepts above requests")
	assert.Equal(t, 0.9, RejectProbability(1000, 0, 2, 20, 0.9), "capped")
	assert.InDelta(t, 20/21.0, RejectProbability(20, 0, 2, 20, 1), 1e-12)
}

func TestWindowSlides(t *testing.T) {
	w := NewWindow(time.Second, 3)
	w.Add(0, true)
	w.Add(500*time.Millisecond, false)
	w.Add(1500*time.Millisecond, true)
	r, a := w.Counts(2999 * time.Millisecond)
	assert.Equal(t, [2]int64{3, 2}, [2]int64{r, a}, "buckets 0, 1, 2 are in the window")
	r, a = w.Counts(3 * time.Second)
	assert.Equal(t, [2]int64{1, 1}, [2]int64{r, a}, "bucket 0 expired")
	w.Add(3500*time.Millisecond, false)
	r, a = w.Counts(2 * time.Second)
	assert.Equal(t, [2]int64{2, 1}, [2]int64{r, a}, "an earlier now leaves the window where it is")
	w.Add(1900*time.Millisecond, true)
	r, a = w.Counts(3500 * time.Millisecond)
	assert.Equal(t, [2]int64{3, 2}, [2]int64{r, a}, "a late Add lands in its own bucket (1)")
	r, a = w.Counts(4 * time.Second)
	assert.Equal(t, [2]int64{1, 0}, [2]int64{r, a}, "and leaves the window with it")
	w.Add(900*time.Millisecond, true)
	r, a = w.Counts(4 * time.Second)
	assert.Equal(t, [2]int64{1, 0}, [2]int64{r, a}, "an Add for a bucket already gone counts nothing")
	r, a = w.Counts(100 * time.Second)
	assert.Equal(t, [2]int64{0, 0}, [2]int64{r, a}, "a long gap empties it")
	w.Add(100*time.Second, true)
	r, a = w.Counts(100 * time.Second)
	assert.Equal(t, [2]int64{1, 1}, [2]int64{r, a})
}

func TestWindowMatchesARecount(t *testing.T) {
	const width, n = 10 * time.Millisecond, 7
	w := NewWindow(width, n)
	type ev struct {
		idx int64
		ok  bool
	}
	var log []ev
	now, cur := time.Duration(0), int64(0)
	for i := range 5000 {
		now += time.Duration(i*7919%23) * time.Millisecond / 4
		// Some outcomes are added late, for a time up to 80ms back.
		at := now - time.Duration(i*104729%9)*10*time.Millisecond*time.Duration(i%2)
		at = max(at, 0)
		ok := i%3 != 0
		w.Add(at, ok)
		cur = max(cur, int64(at/width))
		if idx := int64(at / width); idx > cur-n {
			log = append(log, ev{idx, ok})
		}
		gr, ga := w.Counts(now)
		cur = max(cur, int64(now/width))
		var r, a int64
		for _, e := range log {
			if e.idx > cur-n {
				r++
				if e.ok {
					a++
				}
			}
		}
		require.Equal(t, [2]int64{r, a}, [2]int64{gr, ga}, "at %v", now)
	}
}

func TestNewWindowPanicsOnBadShape(t *testing.T) {
	assert.Panics(t, func() { NewWindow(0, 1) })
	assert.Panics(t, func() { NewWindow(time.Second, 0) })
}

func TestThrottleCountsRejectionsAsRequests(t *testing.T) {
	th := NewThrottle(ThrottleConfig{K: 2, MinRequests: 10, MaxRejectRate: 0.9, BucketWidth: time.Second, Buckets: 60})
	for range 10 {
		assert.False(t, th.Reject(0, 0), "nothing is rejected below MinRequests")
		th.Record(0, false)
	}
	p := th.Probability(0)
	assert.InDelta(t, 0.9, p, 1e-12, "10 requests, 0 accepts: 10/11 capped at 0.9")
	assert.False(t, th.Reject(0, 0.9), "u ≥ p admits")
	assert.True(t, th.Reject(0, 0.89))
	r, a := th.Counts(0)
	assert.Equal(t, [2]int64{11, 0}, [2]int64{r, a}, "the rejection is a request")
}
