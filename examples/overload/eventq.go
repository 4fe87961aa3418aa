package main

import "time"

// queue is the event list of a discrete-event simulation, a binary min-heap:
// events come out in order of simulated time, and events due at the same
// instant in the order they were scheduled, so that a run depends on its
// seed and nothing else.
type queue[E any] struct {
	now   time.Duration
	items []item[E]
	seq   uint64
}

type item[E any] struct {
	at  time.Duration
	seq uint64
	ev  E
}

func (a item[E]) before(b item[E]) bool {
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

// after schedules ev to happen d after the current simulated time.
func (q *queue[E]) after(d time.Duration, ev E) {
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

// next removes the earliest event, advances the clock to it and returns it;
// ok is false when no event is left.
func (q *queue[E]) next() (ev E, ok bool) {
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
