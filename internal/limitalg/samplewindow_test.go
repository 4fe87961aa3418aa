package limitalg

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is an Algorithm that records what it is told.
type recorder struct {
	updates []update
	limit   int
}

type update struct {
	rtt      time.Duration
	inflight int
	dropped  bool
}

func (r *recorder) Update(rtt time.Duration, inflight int, dropped bool) int {
	r.updates = append(r.updates, update{rtt, inflight, dropped})
	r.limit++
	return r.limit
}

func (r *recorder) Limit() int { return r.limit }

func TestSampleWindowDefaultsAreNetflixs(t *testing.T) {
	w := NewSampleWindow(&recorder{}, SampleWindowConfig{})
	assert.Equal(t, SampleWindowConfig{MinTime: time.Second, MaxTime: time.Second, Size: 10, MinRTT: 100 * time.Microsecond}, w.c)
	w = NewSampleWindow(&recorder{}, SampleWindowConfig{MinTime: 2 * time.Second, MaxTime: time.Second, Size: -3, MinRTT: -1})
	assert.Equal(t, SampleWindowConfig{MinTime: 2 * time.Second, MaxTime: 2 * time.Second, Size: 10, MinRTT: -1}, w.c, "MaxTime is raised to MinTime, a size below 1 is the default")
}

func TestSampleWindowPerSampleHandsOnEverySample(t *testing.T) {
	r := &recorder{}
	w := NewSampleWindow(r, SampleWindowConfig{PerSample: true})
	assert.Equal(t, 1, w.Sample(0, 0, 3, false), "even a zero latency")
	assert.Equal(t, 2, w.Sample(time.Millisecond, time.Millisecond, 4, true))
	assert.Equal(t, []update{{0, 3, false}, {time.Millisecond, 4, true}}, r.updates)
}

func TestSampleWindowUpdatesOncePerWindowWithItsMeanMaxInflightAndDrop(t *testing.T) {
	r := &recorder{}
	w := NewSampleWindow(r, SampleWindowConfig{})
	// The first sample ends the window before it, of one sample: too small.
	assert.Equal(t, 0, w.Sample(10*time.Millisecond, 10*time.Millisecond, 1, false))
	require.Empty(t, r.updates)
	// The next window ends at 1.01 s; samples up to then count in it.
	now := 10 * time.Millisecond
	for i := range 10 {
		now += 100 * time.Millisecond
		assert.Equal(t, 0, w.Sample(min(now, 1010*time.Millisecond), time.Duration(i+1)*time.Millisecond, i+1, i == 4))
	}
	require.Empty(t, r.updates, "a sample at the window's end does not end it")
	// The first sample after it is counted in it and ends it.
	assert.Equal(t, 1, w.Sample(1011*time.Millisecond, 12*time.Millisecond, 2, false))
	require.Len(t, r.updates, 1)
	// mean of 1..10 ms and 12 ms = 67/11 ms
	assert.Equal(t, update{rtt: 67 * time.Millisecond / 11, inflight: 10, dropped: true}, r.updates[0])

	// The window after is clean: no drop carried over.
	for i := range 10 {
		w.Sample(1100*time.Millisecond+time.Duration(i)*time.Millisecond, 5*time.Millisecond, 1, false)
	}
	w.Sample(2012*time.Millisecond, 5*time.Millisecond, 1, false)
	require.Len(t, r.updates, 2)
	assert.Equal(t, update{rtt: 5 * time.Millisecond, inflight: 1, dropped: false}, r.updates[1])
}

func TestSampleWindowWithTooFewSamplesIsDiscarded(t *testing.T) {
	r := &recorder{}
	w := NewSampleWindow(r, SampleWindowConfig{})
	w.Sample(time.Millisecond, time.Millisecond, 1, false)
	for i := range 8 {
		w.Sample(time.Duration(i+2)*time.Millisecond, time.Millisecond, 1, true)
	}
	w.Sample(2*time.Second, time.Millisecond, 1, true) // ends a window of 9
	assert.Empty(t, r.updates, "9 samples, drops among them, are fewer than the 10 a window needs (as in Netflix)")
}

func TestSampleWindowSkipsFastSuccessesButNotFastDrops(t *testing.T) {
	r := &recorder{}
	w := NewSampleWindow(r, SampleWindowConfig{})
	w.Sample(time.Millisecond, time.Millisecond, 1, false)
	for i := range 20 {
		w.Sample(time.Duration(i+2)*time.Millisecond, 99*time.Microsecond, 1, false)
	}
	for i := range 9 {
		w.Sample(100*time.Millisecond+time.Duration(i)*time.Millisecond, 2*time.Millisecond, 1, false)
	}
	w.Sample(2*time.Second, 50*time.Microsecond, 7, true)
	require.Len(t, r.updates, 1, "the 20 fast successes did not count; the fast drop made the tenth sample")
	assert.Equal(t, update{rtt: (9*2*time.Millisecond + 50*time.Microsecond) / 10, inflight: 7, dropped: true}, r.updates[0])
}

func TestSampleWindowLastsTwiceItsLowestLatencyWithinBounds(t *testing.T) {
	w := NewSampleWindow(&recorder{}, SampleWindowConfig{MinTime: 100 * time.Millisecond, MaxTime: 10 * time.Second})
	w.Sample(time.Second, time.Second, 1, false)
	assert.Equal(t, 3*time.Second, w.next, "lowest 1 s: the next window lasts 2 s")
	w.Sample(3001*time.Millisecond, time.Millisecond, 1, false)
	assert.Equal(t, 3101*time.Millisecond, w.next, "lowest 1 ms: the window lasts MinTime")
	w.Sample(3102*time.Millisecond, time.Minute, 1, false)
	assert.Equal(t, 13102*time.Millisecond, w.next, "lowest 1 min: the window lasts MaxTime")
}

// The overload study's finding: exponential service times handed to
// Gradient2 one at a time sink its long-term average and pin the limit to
// its floor at a load well below capacity; the same samples in windows
// let the limit grow.
func TestGradient2OnNoisyLatencyFallsToItsFloorPerSampleButNotWindowed(t *testing.T) {
	run := func(c SampleWindowConfig) int {
		r := rand.New(rand.NewPCG(1, 2))
		w := NewSampleWindow(NewGradient2(Gradient2Config{}), c)
		now := time.Duration(0)
		for range 60 * 500 { // a minute at 500 calls a second
			now += 2 * time.Millisecond
			rtt := time.Duration(r.ExpFloat64() * float64(50*time.Millisecond))
			w.Sample(now, rtt, min(w.Limit(), 25), false)
		}
		return w.Limit()
	}
	perSample, windowed := run(SampleWindowConfig{PerSample: true}), run(SampleWindowConfig{})
	t.Logf("per sample %d, windowed %d", perSample, windowed)
	assert.LessOrEqual(t, perSample, 25, "per sample: held near MinLimit 20")
	assert.GreaterOrEqual(t, windowed, 45, "windowed: the limit grows until the calls in flight use less than half of it")
}
