package bulkhead_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/bulkhead"
	"github.com/magicmagnets/resilience/resiliencetest"
)

// hold takes one slot of b, failing the test if none is free.
func hold(t *testing.T, b *bulkhead.Bulkhead) bulkhead.Permit {
	t.Helper()
	p, err := b.Allow()
	require.NoError(t, err)
	return p
}

func TestQueueHoldsMaxQueueWaitersAndRefusesTheNext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := bulkhead.New(bulkhead.Config{MaxConcurrent: 1, MaxQueue: 2})
		p := hold(t, b)

		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Go(func() { errs[i] = b.Do(context.Background(), ok) })
		}
		synctest.Wait()
		assert.Equal(t, bulkhead.Metrics{InFlight: 1, Queued: 2}, b.Metrics())

		err := b.Do(context.Background(), ok)
		assert.ErrorIs(t, err, bulkhead.ErrFull, "the queue is full")
		_, err = b.Allow()
		assert.ErrorIs(t, err, bulkhead.ErrFull)
		assert.Equal(t, uint64(2), b.Metrics().Rejected)

		p.Done()
		wg.Wait()
		assert.Equal(t, []error{nil, nil}, errs, "both waiters ran")
		assert.Equal(t, bulkhead.Metrics{Rejected: 2}, b.Metrics())
	})
}

func TestQueuedCallerIsRefusedAfterMaxWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := bulkhead.New(bulkhead.Config{MaxConcurrent: 1, MaxQueue: 1, MaxWait: 100 * time.Millisecond})
		p := hold(t, b)
		defer p.Done()

		start := time.Now()
		ran := false
		err := b.Do(context.Background(), func(context.Context) error { ran = true; return nil })
		assert.Equal(t, 100*time.Millisecond, time.Since(start), "waited MaxWait, no more")
		assert.ErrorIs(t, err, bulkhead.ErrFull)
		assert.ErrorIs(t, err, resilience.ErrRejected)
		assert.NotErrorIs(t, err, context.DeadlineExceeded)
		assert.False(t, ran)
		assert.Equal(t, bulkhead.Metrics{InFlight: 1, Queued: 0, Rejected: 1}, b.Metrics(), "the waiter left the queue")
	})
}

func TestQueuedCallerWithoutMaxWaitWaitsUntilItsContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := bulkhead.New(bulkhead.Config{MaxConcurrent: 1, MaxQueue: 1})
		p := hold(t, b)
		defer p.Done()

		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		defer cancel()
		start := time.Now()
		err := b.Do(ctx, ok)
		assert.Equal(t, time.Hour, time.Since(start))
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.NotErrorIs(t, err, resilience.ErrRejected, "the caller's deadline is not a refusal")
		assert.Equal(t, bulkhead.Metrics{InFlight: 1}, b.Metrics())
	})
}

func TestCancelledWaiterLeavesTheQueueAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &resiliencetest.Recorder{}
		b := bulkhead.New(bulkhead.Config{MaxConcurrent: 1, MaxQueue: 3, Observer: rec})
		p := hold(t, b)

		// Fill the queue with waiters, then cancel them all.
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		errs := make([]error, 3)
		for i := range errs {
			wg.Go(func() { _, errs[i] = b.Acquire(ctx) })
		}
		synctest.Wait()
		require.Equal(t, 3, b.Metrics().Queued)
		cancel()
		wg.Wait()
		for _, err := range errs {
			assert.ErrorIs(t, err, context.Canceled)
			assert.NotErrorIs(t, err, resilience.ErrRejected)
		}
		assert.Equal(t, bulkhead.Metrics{InFlight: 1}, b.Metrics(), "no place left taken, nothing counted as refused")
		assert.Zero(t, rec.Count(resilience.KindRejected))

		// Their places are free: a new waiter queues and gets the slot.
		var err error
		wg.Go(func() { err = b.Do(context.Background(), ok) })
		synctest.Wait()
		assert.Equal(t, 1, b.Metrics().Queued)
		p.Done()
		wg.Wait()
		assert.NoError(t, err)
		assert.Equal(t, bulkhead.Metrics{}, b.Metrics())
	})
}

// order starts n waiters one after another, each queued before the next
// starts, then frees the held slot and returns the order in which they
// were served. Each waiter records itself and releases its slot at once,
// so the slot passes down the queue.
func order(t *testing.T, lifo bool, n int) []int {
	var got []int
	synctest.Test(t, func(t *testing.T) {
		b := bulkhead.New(bulkhead.Config{MaxConcurrent: 1, MaxQueue: n, LIFO: lifo})
		p := hold(t, b)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				assert.NoError(t, b.Do(context.Background(), func(context.Context) error {
					mu.Lock()
					got = append(got, i+1)
					mu.Unlock()
					return nil
				}))
			})
			synctest.Wait() // waiter i is queued before i+1 arrives
		}
		require.Equal(t, n, b.Metrics().Queued)
		p.Done()
		wg.Wait()
	})
	return got
}

func TestFIFOServesTheOldestWaiterFirst(t *testing.T) {
	assert.Equal(t, []int{1, 2, 3, 4, 5}, order(t, false, 5))
}

func TestLIFOServesTheNewestWaiterFirst(t *testing.T) {
	assert.Equal(t, []int{5, 4, 3, 2, 1}, order(t, true, 5))
}

// TestReleasedSlotGoesToTheWaiterNotANewcomer checks there is no barging:
// a slot released while a caller waits belongs to that caller at once,
// before it has even run, so a caller arriving in between is refused.
func TestReleasedSlotGoesToTheWaiterNotANewcomer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := bulkhead.New(bulkhead.Config{MaxConcurrent: 1, MaxQueue: 1})
		p := hold(t, b)
		var wg sync.WaitGroup
		var err error
		wg.Go(func() { err = b.Do(context.Background(), ok) })
		synctest.Wait()

		p.Done()
		_, barged := b.Allow()
		assert.ErrorIs(t, barged, bulkhead.ErrFull, "the freed slot is the waiter's")
		assert.Equal(t, bulkhead.Metrics{InFlight: 1, Rejected: 1}, b.Metrics())
		wg.Wait()
		assert.NoError(t, err)
		assert.Equal(t, 0, b.InFlight())
	})
}

func TestAcquireWaitsInTheQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := bulkhead.New(bulkhead.Config{MaxConcurrent: 1, MaxQueue: 1})
		p := hold(t, b)
		go func() {
			time.Sleep(time.Second)
			p.Done()
		}()
		start := time.Now()
		q, err := b.Acquire(context.Background())
		require.NoError(t, err)
		assert.Equal(t, time.Second, time.Since(start))
		assert.Equal(t, 1, b.InFlight())
		q.Done()
		assert.Zero(t, b.InFlight())
	})
}
