package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
)

const claimers = 100

// claimAll has claimers goroutines claim key at once and returns the locks
// acquired, failing on any error other than ErrInProgress.
func (e *env) claimAll(t *testing.T, key string) []idempotency.Lock {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		locks []idempotency.Lock
		start = make(chan struct{})
	)
	for range claimers {
		wg.Go(func() {
			<-start
			c, err := e.s.Claim(t.Context(), key, "fp", idempotency.NewToken(), e.lease)
			if err != nil {
				assert.ErrorIs(t, err, idempotency.ErrInProgress)
				return
			}
			assert.False(t, c.Replayed)
			mu.Lock()
			locks = append(locks, c.Lock)
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return locks
}

func concurrentClaim(t *testing.T, e *env) {
	locks := e.claimAll(t, e.key("k"))
	require.Len(t, locks, 1, "exactly one claimer acquires")
	assert.Equal(t, int64(1), locks[0].Fence)
}

func concurrentTakeover(t *testing.T, e *env) {
	old := e.acquire(t, e.key("k"), e.lease)
	e.waitPast(time.Now(), e.lease)
	locks := e.claimAll(t, e.key("k"))
	require.Len(t, locks, 1, "exactly one claimer takes over")
	assert.Equal(t, old.Fence+1, locks[0].Fence)
}

func lateCompleteRace(t *testing.T, e *env) {
	const rounds = 20
	keys := make([]string, rounds)
	locks := make([]idempotency.Lock, rounds)
	for i := range keys {
		keys[i] = e.key(fmt.Sprint(i))
		locks[i] = e.acquire(t, keys[i], e.lease)
	}
	e.waitPast(time.Now(), e.lease)
	for i, key := range keys {
		var (
			wg          sync.WaitGroup
			completeErr error
			claim       idempotency.Claim
			claimErr    error
		)
		wg.Go(func() { completeErr = e.s.Complete(t.Context(), key, locks[i], []byte("late"), e.lease) })
		wg.Go(func() { claim, claimErr = e.s.Claim(t.Context(), key, "fp", idempotency.NewToken(), e.lease) })
		wg.Wait()
		require.NoError(t, claimErr)
		if completeErr == nil {
			assert.True(t, claim.Replayed, "round %d: the late Complete won, so the claim must replay", i)
			assert.Equal(t, []byte("late"), claim.Result)
			continue
		}
		require.True(t, errors.Is(completeErr, idempotency.ErrLockLost), "round %d: %v", i, completeErr)
		assert.False(t, claim.Replayed, "round %d: the takeover won", i)
		assert.Equal(t, locks[i].Fence+1, claim.Lock.Fence)
	}
}

func fenceIncreases(t *testing.T, e *env) {
	last := e.acquire(t, e.key("k"), e.lease)
	for range 4 {
		e.waitPast(time.Now(), e.lease)
		lock := e.acquire(t, e.key("k"), e.lease)
		assert.Greater(t, lock.Fence, last.Fence)
		last = lock
	}
	assert.Equal(t, int64(5), last.Fence)
}

func fenceAcrossReleases(t *testing.T, e *env) {
	ctx, key := t.Context(), e.key("k")
	var fences []int64
	for range 2 {
		lock := e.acquire(t, key, e.lease)
		fences = append(fences, lock.Fence)
		require.NoError(t, e.s.Release(ctx, key, lock, time.Minute))
	}
	lock := e.acquire(t, key, e.lease)
	fences = append(fences, lock.Fence)
	e.waitPast(time.Now(), e.lease)
	fences = append(fences, e.acquire(t, key, e.lease).Fence) // a takeover after a release
	assert.Equal(t, []int64{1, 2, 3, 4}, fences)
}

// fenceAfterRetention: once a completed or released record's retention has
// ended, the store may have dropped it (the next claim's fence is 1) or
// still hold it (the next claim's fence is one more); never anything else.
func fenceAfterRetention(t *testing.T, e *env) {
	ctx := t.Context()
	for _, released := range []bool{false, true} {
		key := e.key(fmt.Sprint("released=", released))
		var last idempotency.Lock
		for range 2 { // fences 1 and 2, released for a minute
			last = e.acquire(t, key, e.lease)
			require.NoError(t, e.s.Release(ctx, key, last, time.Minute))
		}
		last = e.acquire(t, key, e.lease)
		if released {
			require.NoError(t, e.s.Release(ctx, key, last, e.lease))
		} else {
			require.NoError(t, e.s.Complete(ctx, key, last, []byte("r"), e.lease))
		}
		e.waitPast(time.Now(), e.lease)
		next := e.acquire(t, key, e.lease)
		assert.Contains(t, []int64{1, last.Fence + 1}, next.Fence, "released=%v: the fence after fence %d", released, last.Fence)
		if e.storedFence != nil {
			assert.Equal(t, next.Fence, e.storedFence(t, key))
		}
	}
}
