// Package sim holds what the discrete-event studies under examples share:
// an event queue ordered by simulated time, the mean and standard error of a
// sample, and a histogram that pools latencies into quantiles. A run built
// on them depends on its seed and nothing else.
package sim

import "time"

// Queue is the event list of a discrete-event simulation: events come out
// in order of simulated time, and events due at the same instant in the
// order they were scheduled. Its zero value is an empty queue at time 0.
//
// Events scheduled with After come from a binary min-heap; events scheduled
// with AfterFixed, all with the same delay, come due in the order they were
// scheduled, so they wait in a FIFO beside it, which keeps the heap small.
// Both share one sequence, so the order of events is the same as if all were
// in the heap.
type Queue[E any] struct {
	now   time.Duration
	items []item[E]
	seq   uint64

	fixed     time.Duration // the delay of every AfterFixed event
	fifo      []item[E]
	fifoStart int
}

type item[E any] struct {
	at  time.Duration
	seq uint64
	ev  E
}

func (a item[E]) before(b item[E]) bool {
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

// Now returns the current simulated time: that of the last event Next
// returned, or 0 before the first.
func (q *Queue[E]) Now() time.Duration { return q.now }

// After schedules ev to happen d after the current simulated time.
func (q *Queue[E]) After(d time.Duration, ev E) {
	q.seq++
	q.items = append(q.items, item[E]{at: q.now + d, seq: q.seq, ev: ev})
	// Sift the new item up.
	h := q.items
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !h[i].before(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

// AfterFixed schedules ev to happen d after the current simulated time,
// where d is the same for every call on q. It panics if d differs from the
// first call's.
func (q *Queue[E]) AfterFixed(d time.Duration, ev E) {
	if q.fixed == 0 {
		q.fixed = d
	}
	if d != q.fixed {
		panic("sim: AfterFixed with another delay")
	}
	q.seq++
	// Move what is left to the front once most of the FIFO is spent, so
	// that its memory stays proportional to the events pending.
	if q.fifoStart > 1024 && 2*q.fifoStart > len(q.fifo) {
		n := copy(q.fifo, q.fifo[q.fifoStart:])
		clear(q.fifo[n:])
		q.fifo, q.fifoStart = q.fifo[:n], 0
	}
	q.fifo = append(q.fifo, item[E]{at: q.now + d, seq: q.seq, ev: ev})
}

// Next removes the earliest event, advances the clock to it and returns it;
// ok is false when no event is left.
func (q *Queue[E]) Next() (ev E, ok bool) {
	if q.fifoStart < len(q.fifo) && (len(q.items) == 0 || q.fifo[q.fifoStart].before(q.items[0])) {
		top := q.fifo[q.fifoStart]
		var zero item[E]
		q.fifo[q.fifoStart] = zero
		q.fifoStart++
		q.now = top.at
		return top.ev, true
	}
	h := q.items
	if len(h) == 0 {
		return ev, false
	}
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	// Sift the moved item down.
	for i := 0; ; {
		c := 2*i + 1
		if c >= len(h) {
			break
		}
		if c+1 < len(h) && h[c+1].before(h[c]) {
			c++
		}
		if !h[c].before(h[i]) {
			break
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
	q.items = h
	q.now = top.at
	return top.ev, true
}
