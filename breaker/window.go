package breaker

import "time"

// outcome is one recorded call: whether it failed and whether it was slow.
type outcome uint8

const (
	failed outcome = 1 << iota
	slow
)

// counts are the totals a window holds.
type counts struct {
	calls, failures, slow int
}

func (c *counts) add(o outcome) {
	c.calls++
	if o&failed != 0 {
		c.failures++
	}
	if o&slow != 0 {
		c.slow++
	}
}

func (c *counts) sub(o outcome) {
	c.calls--
	if o&failed != 0 {
		c.failures--
	}
	if o&slow != 0 {
		c.slow--
	}
}

// window is a sliding window of call outcomes. Both implementations are
// O(1) per call and are guarded by the breaker's mutex.
type window interface {
	// add records one outcome that finished at now.
	add(now time.Time, o outcome)
	// totals returns what the window holds at now.
	totals(now time.Time) counts
	// reset empties the window as of now.
	reset(now time.Time)
	// timed reports whether add and totals need the current time.
	timed() bool
	// healthy reports whether recording a success would change nothing.
	healthy() bool
}

// countWindow holds the outcomes of the last len(ring) calls in a ring
// buffer, with running totals.
type countWindow struct {
	ring []outcome
	next int // where the next outcome goes
	sum  counts
}

func newCountWindow(size int) *countWindow {
	return &countWindow{ring: make([]outcome, size)}
}

func (w *countWindow) add(_ time.Time, o outcome) {
	if w.sum.calls == len(w.ring) {
		w.sum.sub(w.ring[w.next])
	}
	w.ring[w.next] = o
	w.sum.add(o)
	w.next++
	if w.next == len(w.ring) {
		w.next = 0
	}
}

func (w *countWindow) totals(time.Time) counts { return w.sum }

func (w *countWindow) reset(time.Time) {
	w.next, w.sum = 0, counts{}
}

func (w *countWindow) timed() bool { return false }

func (w *countWindow) healthy() bool {
	return w.sum.calls == len(w.ring) && w.sum.failures == 0 && w.sum.slow == 0
}

// timeWindow holds the outcomes of the calls that finished in the last
// timeBuckets·width, in timeBuckets buckets of width each, with running
// totals. Bucket i holds the calls of epoch head-k where i = (head-k) mod
// timeBuckets and 0 ≤ k < timeBuckets; epoch n is the interval
// [base + n·width, base + (n+1)·width).
type timeWindow struct {
	width   time.Duration
	base    time.Time
	head    int64 // the latest epoch the buckets have been advanced to
	buckets [timeBuckets]counts
	sum     counts
}

func newTimeWindow(span time.Duration, now time.Time) *timeWindow {
	w := &timeWindow{width: max(span/timeBuckets, 1)}
	w.reset(now)
	return w
}

func (w *timeWindow) add(now time.Time, o outcome) {
	w.advance(now)
	w.buckets[w.head%timeBuckets].add(o)
	w.sum.add(o)
}

func (w *timeWindow) totals(now time.Time) counts {
	w.advance(now)
	return w.sum
}

func (w *timeWindow) reset(now time.Time) {
	w.base, w.head = now, 0
	w.buckets, w.sum = [timeBuckets]counts{}, counts{}
}

func (w *timeWindow) timed() bool { return true }

// healthy is false: a success adds to the current bucket.
func (w *timeWindow) healthy() bool { return false }

// advance expires the buckets of the epochs that ended more than
// timeBuckets·width before now. After an idle gap of a whole window or more
// every bucket is expired at once, so the cost stays bounded by timeBuckets.
func (w *timeWindow) advance(now time.Time) {
	epoch := int64(now.Sub(w.base) / w.width)
	if epoch <= w.head {
		return
	}
	if epoch-w.head >= timeBuckets {
		w.buckets, w.sum = [timeBuckets]counts{}, counts{}
		w.head = epoch
		return
	}
	for w.head < epoch {
		w.head++
		b := &w.buckets[w.head%timeBuckets]
		w.sum.calls -= b.calls
		w.sum.failures -= b.failures
		w.sum.slow -= b.slow
		*b = counts{}
	}
}
