package breaker

import (
	"sync/atomic"
	"time"
)

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
	// lockFree reports whether the next success may be recorded without
	// the breaker's mutex (a count window: nothing to record; a time
	// window: through addSuccess), given the failures in a row the breaker
	// holds.
	lockFree(consecutive int) bool
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

// lockFree holds while the ring is full and holds neither failures nor slow
// calls: recording a success then changes nothing (it replaces a success
// with a success), so it needs no lock, and there are no failures in a row.
func (w *countWindow) lockFree(int) bool {
	return w.sum.calls == len(w.ring) && w.sum.failures == 0 && w.sum.slow == 0
}

// timeWindow holds the outcomes of the calls that finished in the last
// timeBuckets·width, in timeBuckets buckets of width each, with running
// totals. Epoch n is the interval [base + n·width, base + (n+1)·width),
// base being the breaker's epoch; bucket i holds the calls of epoch head-k
// where i = (head-k) mod timeBuckets and 0 ≤ k < timeBuckets.
//
// Successes recorded without the breaker's mutex (addSuccess) go to ok,
// where each bucket is tagged with the epoch it counts for: a success adds
// to the bucket of its epoch only once the mutex holder has opened it
// (advance tags it), so the lock-free path never expires anything. Totals
// add the open buckets' counts to sum.
type timeWindow struct {
	width   time.Duration
	base    time.Time // the breaker's epoch; fixed
	head    int64     // the latest epoch the buckets have been advanced to
	buckets [timeBuckets]counts
	sum     counts
	ok      [timeBuckets]okBucket
	cur     atomic.Int64 // the epoch of the latest bucket opened, for addSuccess
}

// okBucket counts the successes of one epoch recorded without the lock.
type okBucket struct {
	epoch atomic.Int64 // the epoch counted; -1 when none
	n     atomic.Int64
}

func newTimeWindow(span time.Duration, base time.Time) *timeWindow {
	w := &timeWindow{width: max(span/timeBuckets, 1), base: base}
	w.reset(base)
	return w
}

func (w *timeWindow) epoch(now time.Time) int64 { return int64(now.Sub(w.base) / w.width) }

func (w *timeWindow) add(now time.Time, o outcome) {
	w.advance(now)
	w.buckets[w.head%timeBuckets].add(o)
	w.sum.add(o)
}

func (w *timeWindow) totals(now time.Time) counts {
	w.advance(now)
	c := w.sum
	for i := range w.ok {
		if e := w.ok[i].epoch.Load(); e > w.head-timeBuckets && e <= w.head {
			c.calls += int(w.ok[i].n.Load())
		}
	}
	return c
}

func (w *timeWindow) reset(now time.Time) {
	w.head = w.epoch(now)
	w.buckets, w.sum = [timeBuckets]counts{}, counts{}
	for i := range w.ok {
		w.ok[i].epoch.Store(-1)
		w.ok[i].n.Store(0)
	}
	w.open(w.head)
}

func (w *timeWindow) timed() bool { return true }

// lockFree holds while there are no failures in a row: a success then only
// adds to its epoch's count, which needs no lock.
func (w *timeWindow) lockFree(consecutive int) bool { return consecutive == 0 }

// addSuccess counts a success that finished el after the breaker's epoch,
// without the breaker's mutex, while lockFree said so, in the lock-free
// bucket of its epoch if the mutex holder has opened it; it returns false
// when it could not, and the caller must record the success under the
// mutex. A success whose goroutine stalls between
// reading its epoch and adding, while the window moves a whole span on, is
// counted in a later epoch or lost: one call, in a window of many.
func (w *timeWindow) addSuccess(el time.Duration) bool {
	// Most successes fall in the latest epoch opened: checking that costs a
	// multiplication where finding el's epoch would cost a division.
	e := w.cur.Load()
	if from := time.Duration(e) * w.width; el < from || el-from >= w.width {
		return false
	}
	b := &w.ok[e%timeBuckets]
	if b.epoch.Load() != e {
		return false
	}
	b.n.Add(1)
	return true
}

// open tags the lock-free bucket of epoch e for it, emptied. The mutex is
// held.
func (w *timeWindow) open(e int64) {
	b := &w.ok[e%timeBuckets]
	b.epoch.Store(-1) // no success adds to it while it is emptied
	b.n.Store(0)
	b.epoch.Store(e)
	w.cur.Store(e)
}

// advance expires the buckets of the epochs that ended more than
// timeBuckets·width before now. After an idle gap of a whole window or more
// every bucket is expired at once, so the cost stays bounded by timeBuckets.
func (w *timeWindow) advance(now time.Time) {
	epoch := w.epoch(now)
	if epoch <= w.head {
		return
	}
	if epoch-w.head >= timeBuckets {
		w.buckets, w.sum = [timeBuckets]counts{}, counts{}
		w.head = epoch
		for i := range w.ok {
			w.ok[i].epoch.Store(-1)
			w.ok[i].n.Store(0)
		}
		w.open(epoch)
		return
	}
	for w.head < epoch {
		w.head++
		b := &w.buckets[w.head%timeBuckets]
		w.sum.calls -= b.calls
		w.sum.failures -= b.failures
		w.sum.slow -= b.slow
		*b = counts{}
		w.open(w.head)
	}
}
