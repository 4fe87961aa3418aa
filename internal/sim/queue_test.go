package sim_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/internal/sim"
)

// Events come out in time order, those due at the same instant in the order
// they were scheduled, whether they were scheduled on the heap or in the
// fixed-delay FIFO, and however many the FIFO has held.
func TestQueueMergesHeapAndFixedDelayEventsInOrder(t *testing.T) {
	type ev struct {
		at  time.Duration
		seq int
	}
	var q sim.Queue[ev]
	r := rand.New(rand.NewPCG(1, 2))
	const fixed = 10 * time.Millisecond
	seq, seen := 0, 0
	var last ev
	schedule := func() {
		seq++
		if r.IntN(2) == 0 {
			q.AfterFixed(fixed, ev{q.Now() + fixed, seq})
		} else {
			d := time.Duration(r.IntN(3)) * 5 * time.Millisecond // ties with the FIFO's events too
			q.After(d, ev{q.Now() + d, seq})
		}
	}
	for range 100 {
		schedule()
	}
	for {
		e, ok := q.Next()
		if !ok {
			break
		}
		require.Equal(t, e.at, q.Now(), "the clock moves to the event")
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
	assert.Panics(t, func() { q.AfterFixed(fixed+1, ev{}) }, "another fixed delay")
}

// The zero queue is empty at time 0, and an emptied queue keeps the time of
// its last event.
func TestQueueEmpty(t *testing.T) {
	var q sim.Queue[string]
	_, ok := q.Next()
	assert.False(t, ok)
	assert.Zero(t, q.Now())
	q.After(3*time.Second, "a")
	q.After(time.Second, "b")
	q.After(3*time.Second, "c")
	var got []string
	for ev, ok := q.Next(); ok; ev, ok = q.Next() {
		got = append(got, ev)
	}
	assert.Equal(t, []string{"b", "a", "c"}, got, "time order, then the order scheduled")
	assert.Equal(t, 3*time.Second, q.Now())
}
