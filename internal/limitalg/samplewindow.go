package limitalg

import "time"

// The defaults of Netflix's WindowedLimit (concurrency-limits-core,
// com.netflix.concurrency.limits.limit.WindowedLimit): a window lasts twice
// its lowest latency, but at least DefaultSampleWindowMinTime and at most
// DefaultSampleWindowMaxTime, so 1 s; it counts only if it holds at least
// DefaultSampleWindowSize samples; a success faster than DefaultSampleWindowMinRTT is not
// sampled. Netflix's builder rejects window times below 100 ms and sizes
// below 10.
const (
	DefaultSampleWindowMinTime = time.Second
	DefaultSampleWindowMaxTime = time.Second
	DefaultSampleWindowSize    = 10
	DefaultSampleWindowMinRTT  = 100 * time.Microsecond
)

// SampleWindowConfig configures a [SampleWindow]. Zero fields mean Netflix's
// WindowedLimit defaults.
type SampleWindowConfig struct {
	// PerSample hands every sample straight to the algorithm, as Netflix's
	// limits behave when they are not wrapped in a WindowedLimit. The other
	// fields are then unused.
	PerSample bool
	// MinTime and MaxTime bound a window's length, which is twice the
	// lowest latency of the window before it. Zero means 1 s each; a
	// MaxTime below MinTime is raised to it.
	MinTime, MaxTime time.Duration
	// Size is the fewest samples a window must hold to reach the algorithm;
	// a window with fewer is discarded. Zero (or less) means 10.
	Size int
	// MinRTT is the latency below which a success is not sampled at all (a
	// cache hit or an error answered at once says nothing about capacity).
	// Zero means 100 µs; negative means none.
	MinRTT time.Duration
}

// SampleWindow feeds an [Algorithm] with samples, either one at a time
// ([SampleWindowConfig.PerSample]) or, as Netflix's WindowedLimit, once per
// window: the algorithm sees the window's mean latency, the most calls in
// flight any of its samples saw, and a drop if any of them dropped. So a
// drop lowers the limit when its window ends, not at once, as in Netflix.
//
// A window ends with the first sample that finishes after it: the sample is
// counted in it, and the next window starts then and lasts twice the lowest
// latency of the one that ended, within [MinTime, MaxTime]. The first sample
// ever ends a window of one sample, which is too small to count, so the
// first full window starts with it (as in Netflix, whose next update time
// starts at zero).
//
// Departure from Netflix, which drops every sample faster than MinRTT: a
// drop is always counted, however fast it came back, since an overload
// answer that comes back at once is the clearest drop there is.
type SampleWindow struct {
	alg Algorithm
	c   SampleWindowConfig

	next        time.Duration // when the current window ends
	count       int
	sum         time.Duration
	lowest      time.Duration // 0 while count is 0
	maxInflight int
	dropped     bool
}

// NewSampleWindow returns a SampleWindow feeding alg, configured by c.
func NewSampleWindow(alg Algorithm, c SampleWindowConfig) *SampleWindow {
	if c.MinTime <= 0 {
		c.MinTime = DefaultSampleWindowMinTime
	}
	if c.MaxTime <= 0 {
		c.MaxTime = DefaultSampleWindowMaxTime
	}
	c.MaxTime = max(c.MaxTime, c.MinTime)
	if c.Size <= 0 {
		c.Size = DefaultSampleWindowSize
	}
	if c.MinRTT == 0 {
		c.MinRTT = DefaultSampleWindowMinRTT
	}
	return &SampleWindow{alg: alg, c: c}
}

// Sample records one finished call: now is when it finished (on the
// caller's clock, the same for every sample), and rtt, inflight and
// dropped are as for [Algorithm.Update]. It returns the limit after the
// sample, which moves only when the sample ends a window (or, PerSample, on
// every sample).
func (w *SampleWindow) Sample(now, rtt time.Duration, inflight int, dropped bool) int {
	if w.c.PerSample {
		return w.alg.Update(rtt, inflight, dropped)
	}
	if !dropped && rtt < w.c.MinRTT {
		return w.alg.Limit()
	}
	if w.count == 0 || rtt < w.lowest {
		w.lowest = rtt
	}
	w.count++
	w.sum += rtt
	w.maxInflight = max(w.maxInflight, inflight)
	w.dropped = w.dropped || dropped
	if now <= w.next {
		return w.alg.Limit()
	}
	count, mean, most, drop := w.count, w.sum/time.Duration(w.count), w.maxInflight, w.dropped
	w.next = now + min(max(2*w.lowest, w.c.MinTime), w.c.MaxTime)
	w.count, w.sum, w.lowest, w.maxInflight, w.dropped = 0, 0, 0, 0, false
	if count < w.c.Size {
		return w.alg.Limit()
	}
	return w.alg.Update(mean, most, drop)
}

// Limit returns the algorithm's current limit.
func (w *SampleWindow) Limit() int { return w.alg.Limit() }
