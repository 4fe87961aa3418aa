package bulkhead

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSlotHandedOverAsTheContextEndsPassesOn hands a queued waiter a slot
// and ends its context before it parks, so that both are ready when it
// does and either may win its select. Whichever wins, nothing is lost: a
// waiter that takes the cancel runs nothing and its slot goes on to the
// next waiter. Over 64 tries each outcome is all but certain to happen.
func TestSlotHandedOverAsTheContextEndsPassesOn(t *testing.T) {
	for _, maxWait := range []time.Duration{0, time.Second} {
		seen := map[bool]int{}
		for range 64 {
			synctest.Test(t, func(t *testing.T) {
				b := New(Config{MaxConcurrent: 1, MaxQueue: 2, MaxWait: maxWait})
				require.True(t, b.tryAcquire())
				w, err := b.enqueue()
				require.NoError(t, err)
				require.NotNil(t, w)

				var wg sync.WaitGroup
				var second error
				wg.Go(func() { second = b.Do(context.Background(), func(context.Context) error { return nil }) })
				synctest.Wait()
				require.Equal(t, Metrics{InFlight: 1, Queued: 2}, b.Metrics())

				b.release() // the slot is w's ...
				ctx, cancel := context.WithCancel(context.Background())
				cancel() // ... and its context has ended
				err = b.park(ctx, w)
				won := err == nil
				seen[won]++
				if won {
					b.release()
				} else {
					assert.ErrorIs(t, err, context.Canceled)
				}
				wg.Wait()
				assert.NoError(t, second, "the slot went on to the next waiter")
				assert.Equal(t, Metrics{}, b.Metrics())
			})
		}
		assert.Positive(t, seen[true], "MaxWait %v: the slot won", maxWait)
		assert.Positive(t, seen[false], "MaxWait %v: the cancel won", maxWait)
	}
}

// TestCallerBackingOutHandsTheSlotToAWaiter plays a race out step by step:
// a caller in tryAcquire has counted itself in over the limit when the
// holder of the only slot releases it, and a caller queues, seeing no slot
// free because of that count. When the first caller backs out, the slot it
// seemed to hold must go to the waiter, or the waiter would wait for a
// release that may never come.
func TestCallerBackingOutHandsTheSlotToAWaiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(Config{MaxConcurrent: 1, MaxQueue: 1})
		require.True(t, b.tryAcquire())
		b.state.Add(1) // a caller in tryAcquire, over the limit
		assert.Equal(t, 1, b.InFlight(), "a count over the limit is never reported")
		b.release() // the holder leaves; nobody is queued yet

		var wg sync.WaitGroup
		var err error
		wg.Go(func() { err = b.Do(context.Background(), func(context.Context) error { return nil }) })
		synctest.Wait()
		require.Equal(t, 1, b.Metrics().Queued, "the slot looks taken")

		b.backOut() // the racing caller gives up its count
		wg.Wait()
		assert.NoError(t, err)
		assert.Equal(t, Metrics{}, b.Metrics())
	})
}

// TestDoubleReleaseRacingABackOutLeavesACountOfZero: a permit released
// twice while a refused caller is counted in goes unnoticed by release,
// but the caller's back-out then finds nothing to take back and leaves the
// count at zero rather than wrapping it round.
func TestDoubleReleaseRacingABackOutLeavesACountOfZero(t *testing.T) {
	b := New(Config{MaxConcurrent: 1})
	require.True(t, b.tryAcquire())
	b.release()
	b.state.Add(1) // a refused caller in tryAcquire
	b.release()    // the same permit again, by a copy
	b.backOut()
	assert.Equal(t, Metrics{}, b.Metrics())
	p, err := b.Allow()
	require.NoError(t, err)
	p.Done()
	assert.Equal(t, Metrics{}, b.Metrics())
}
