package main

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Events come out in time order, those due at the same instant in the order
// they were scheduled, whether they were scheduled on the heap or in the
// fixed-delay FIFO, and however many the FIFO has held.
func TestQueueMergesHeapAndFixedDelayEventsInOrder(t *testing.T) {
	type ev struct {
		at  time.Duration
		seq int
	}
	var q queue[ev]
	r := rand.New(rand.NewPCG(1, 2))
	const fixed = 10 * time.Millisecond
	seq, seen := 0, 0
	var last ev
	schedule := func() {
		seq++
		if r.IntN(2) == 0 {
			q.afterFixed(fixed, ev{q.now + fixed, seq})
		} else {
			d := time.Duration(r.IntN(3)) * 5 * time.Millisecond // ties with the FIFO's events too
			q.after(d, ev{q.now + d, seq})
		}
	}
	for range 100 {
		schedule()
	}
	for {
		e, ok := q.next()
		if !ok {
			break
		}
		require.Equal(t, e.at, q.now, "the clock moves to the event")
		if seen > 0 {
			require.True(t, e.at > last.at || (e.at == last.at && e.seq > last.seq), "event %v after %v", e, last)
		}
		last = e
		seen++
		// Zero, one or two new events for each one out: the queue stays
		// small while far more events than it holds go through the FIFO,
		// which is compacted on the way.
		if seq < 50000 {
			for range r.IntN(3) {
				schedule()
			}
		}
	}
	assert.Equal(t, seq, seen, "every event comes out once")
	assert.Greater(t, seen, 5000, "the script runs long enough to compact the FIFO")
	assert.Panics(t, func() { q.afterFixed(fixed+1, ev{}) }, "another fixed delay")
}
