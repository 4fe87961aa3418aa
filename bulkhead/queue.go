package bulkhead

import (
	"context"
	"time"
)

// waiter is a caller parked in the queue, on a channel of its own: no
// goroutine waits on its behalf. A waiter is made for each wait and not
// reused, so that a bulkhead shared by several testing/synctest bubbles
// never hands one bubble's channel to another.
type waiter struct {
	prev, next *waiter
	ready      chan struct{} // buffered; receives once, when granted
	granted    bool          // a slot was handed to it; under Bulkhead.mu
}

// queue is a doubly linked list of waiters, oldest first, so that a waiter
// that gives up leaves from anywhere in it at once.
type queue struct {
	head, tail *waiter
}

// push adds w as the newest waiter.
func (q *queue) push(w *waiter) {
	w.prev = q.tail
	if q.tail != nil {
		q.tail.next = w
	} else {
		q.head = w
	}
	q.tail = w
}

// pop removes and returns the oldest waiter, or the newest when lifo is
// set; nil when the queue is empty.
func (q *queue) pop(lifo bool) *waiter {
	w := q.head
	if lifo {
		w = q.tail
	}
	if w != nil {
		q.remove(w)
	}
	return w
}

// remove takes w out of the queue.
func (q *queue) remove(w *waiter) {
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		q.head = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		q.tail = w.prev
	}
	w.prev, w.next = nil, nil
}

// wait queues the caller for a slot, or refuses it when the queue is full,
// and returns nil once the caller holds a slot.
func (b *Bulkhead) wait(ctx context.Context) error {
	w, err := b.enqueue()
	if w == nil {
		return err
	}
	return b.park(ctx, w)
}

// enqueue takes a slot that freed since tryAcquire looked (nil, nil),
// refuses the caller when the queue is full (nil, ErrFull), or queues it
// and returns its waiter, which may have been handed a slot already.
func (b *Bulkhead) enqueue() (*waiter, error) {
	b.mu.Lock()
	for {
		s := b.state.Load()
		if s>>queuedShift == 0 && s&inFlightMask < b.max {
			if b.state.CompareAndSwap(s, s+1) {
				b.mu.Unlock()
				return nil, nil
			}
			continue
		}
		if s>>queuedShift >= b.maxQueue {
			b.mu.Unlock()
			return nil, b.refuse(ErrFull) // the event goes out without the lock
		}
		if b.state.CompareAndSwap(s, s+oneQueued) {
			break
		}
	}
	w := &waiter{ready: make(chan struct{}, 1)}
	b.queue.push(w)
	// Hand out a slot that is free already. A release or back-out that
	// freed it after seeing callers queued would do so too, once it has
	// this lock; this keeps the hand-over from depending on it.
	b.dispatch()
	b.mu.Unlock()
	return w, nil
}

// park waits until w is handed a slot (nil), its context ends (ctx.Err())
// or MaxWait passes (errWaited).
func (b *Bulkhead) park(ctx context.Context, w *waiter) error {
	var expired <-chan time.Time
	if b.maxWait > 0 {
		t := time.NewTimer(b.maxWait)
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		if b.leave(w) {
			// A slot was handed over as the context ended. The caller
			// asked to stop, so it runs nothing: the slot passes on.
			b.release()
		}
		return ctx.Err()
	case <-expired:
		if b.leave(w) {
			return nil // the slot came just in time: take it
		}
		return b.refuse(errWaited)
	}
}

// leave takes w out of the queue, freeing its place at once, and reports
// whether a slot had been handed to it already (it then holds the slot).
func (b *Bulkhead) leave(w *waiter) (granted bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if w.granted {
		return true
	}
	b.queue.remove(w)
	b.state.Add(^uint64(oneQueued - 1)) // queued - 1
	return false
}
