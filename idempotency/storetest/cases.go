package storetest

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
)

// acquire claims key with fingerprint "fp" under a fresh token and requires
// that it was acquired.
func (e *env) acquire(t *testing.T, key string, lease time.Duration) idempotency.Lock {
	t.Helper()
	return e.acquireAs(t, key, idempotency.NewToken(), lease)
}

// acquireAs claims key with fingerprint "fp" under token and requires that
// it was acquired by token.
func (e *env) acquireAs(t *testing.T, key, token string, lease time.Duration) idempotency.Lock {
	t.Helper()
	c, err := e.s.Claim(t.Context(), key, "fp", token, lease)
	require.NoError(t, err)
	require.False(t, c.Replayed, "claim of %q replayed instead of acquiring", key)
	require.Equal(t, token, c.Lock.Token, "the lock carries the claimer's token")
	return c.Lock
}

// requireInProgress claims key and requires an in-progress report.
func (e *env) requireInProgress(t *testing.T, key string) time.Duration {
	t.Helper()
	return e.requireInProgressWith(t, key, "fp")
}

// requireInProgressWith claims key with fingerprint and requires an
// in-progress report.
func (e *env) requireInProgressWith(t *testing.T, key, fingerprint string) time.Duration {
	t.Helper()
	_, err := e.s.Claim(t.Context(), key, fingerprint, idempotency.NewToken(), e.lease)
	require.ErrorIs(t, err, idempotency.ErrInProgress)
	var ip *idempotency.InProgressError
	require.ErrorAs(t, err, &ip)
	return ip.Remaining
}

// requireReplay claims key under a fresh token and requires a replay of
// want.
func (e *env) requireReplay(t *testing.T, key string, want []byte) {
	t.Helper()
	e.requireReplayAs(t, key, idempotency.NewToken(), want)
}

// requireReplayAs claims key under token and requires a replay of want.
func (e *env) requireReplayAs(t *testing.T, key, token string, want []byte) {
	t.Helper()
	c, err := e.s.Claim(t.Context(), key, "fp", token, e.lease)
	require.NoError(t, err)
	require.True(t, c.Replayed, "claim of %q acquired instead of replaying", key)
	assert.Equal(t, idempotency.Lock{}, c.Lock)
	assert.True(t, bytes.Equal(want, c.Result), "replayed %q, want %q", c.Result, want)
}

func claimAbsent(t *testing.T, e *env) {
	a := e.acquire(t, e.key("a"), e.lease)
	b := e.acquire(t, e.key("b"), e.lease)
	assert.Equal(t, int64(1), a.Fence)
	assert.Equal(t, int64(1), b.Fence)
	assert.NotEqual(t, a.Token, b.Token)
}

func claimInProgress(t *testing.T, e *env) {
	start := time.Now()
	lock := e.acquire(t, e.key("k"), e.lease)
	remaining := e.requireInProgress(t, e.key("k"))
	assert.Greater(t, remaining, time.Duration(0))
	assert.LessOrEqual(t, remaining, e.lease)
	if !e.fake {
		assert.Greater(t, remaining, e.lease-time.Since(start)-e.resolution, "remaining lease shorter than the time passed explains")
	} else {
		assert.Equal(t, e.lease, remaining)
	}
	_, err := e.s.Claim(t.Context(), e.key("k"), "fp", idempotency.NewToken(), e.lease)
	var ip *idempotency.InProgressError
	require.ErrorAs(t, err, &ip)
	assert.Equal(t, ip.Remaining, ip.RetryAfter())
	// The failed claims changed nothing: the owner still completes.
	require.NoError(t, e.s.Complete(t.Context(), e.key("k"), lock, []byte("r"), e.lease))
}

func claimMismatch(t *testing.T, e *env) {
	lock := e.acquire(t, e.key("k"), e.lease)
	_, err := e.s.Claim(t.Context(), e.key("k"), "other", idempotency.NewToken(), e.lease)
	assert.ErrorIs(t, err, idempotency.ErrMismatch, "in progress, other fingerprint")
	assert.NotErrorIs(t, err, idempotency.ErrInProgress, "mismatch wins over in progress")

	require.NoError(t, e.s.Complete(t.Context(), e.key("k"), lock, []byte("r"), e.lease))
	_, err = e.s.Claim(t.Context(), e.key("k"), "other", idempotency.NewToken(), e.lease)
	assert.ErrorIs(t, err, idempotency.ErrMismatch, "completed, other fingerprint")
	e.requireReplay(t, e.key("k"), []byte("r"))
}

func claimReplay(t *testing.T, e *env) {
	lock := e.acquire(t, e.key("k"), e.lease)
	result := []byte("result\x00\xff bytes")
	require.NoError(t, e.s.Complete(t.Context(), e.key("k"), lock, result, e.lease))
	e.requireReplay(t, e.key("k"), result)
	e.requireReplay(t, e.key("k"), result)
}

func completeCopies(t *testing.T, e *env) {
	lock := e.acquire(t, e.key("k"), e.lease)
	buf := []byte("first")
	require.NoError(t, e.s.Complete(t.Context(), e.key("k"), lock, buf, e.lease))
	copy(buf, "XXXXX")
	e.requireReplay(t, e.key("k"), []byte("first"))
}

func emptyResult(t *testing.T, e *env) {
	lock := e.acquire(t, e.key("k"), e.lease)
	require.NoError(t, e.s.Complete(t.Context(), e.key("k"), lock, nil, e.lease))
	e.requireReplay(t, e.key("k"), nil)
}

func takeover(t *testing.T, e *env) {
	old := e.acquire(t, e.key("k"), e.lease)
	e.waitPast(time.Now(), e.lease)
	lock := e.acquire(t, e.key("k"), e.lease)
	assert.Equal(t, old.Fence+1, lock.Fence)
	assert.NotEqual(t, old.Token, lock.Token)
}

func leaseBoundary(t *testing.T, e *env) {
	if !e.fake {
		start := time.Now()
		e.acquire(t, e.key("k"), e.lease)
		if time.Since(start) < e.lease/2 {
			e.requireInProgress(t, e.key("k"))
		}
		e.waitPast(time.Now(), e.lease)
		assert.Equal(t, int64(2), e.acquire(t, e.key("k"), e.lease).Fence)
		return
	}
	e.acquire(t, e.key("k"), e.lease)
	time.Sleep(e.lease - time.Nanosecond)
	assert.Equal(t, time.Nanosecond, e.requireInProgress(t, e.key("k")), "live until the deadline")
	time.Sleep(time.Nanosecond)
	assert.Equal(t, int64(2), e.acquire(t, e.key("k"), e.lease).Fence, "expired at the deadline")
}

func retentionBoundary(t *testing.T, e *env) {
	lock := e.acquire(t, e.key("k"), e.lease)
	require.NoError(t, e.s.Complete(t.Context(), e.key("k"), lock, []byte("r"), e.lease))
	if !e.fake {
		e.requireReplay(t, e.key("k"), []byte("r"))
		e.waitPast(time.Now(), e.lease)
		next := e.acquire(t, e.key("k"), e.lease)
		assert.NotEqual(t, lock.Token, next.Token)
		return
	}
	time.Sleep(e.lease - time.Nanosecond)
	e.requireReplay(t, e.key("k"), []byte("r"))
	time.Sleep(time.Nanosecond)
	e.acquire(t, e.key("k"), e.lease)
}

func lateComplete(t *testing.T, e *env) {
	lock := e.acquire(t, e.key("k"), e.lease)
	e.waitPast(time.Now(), e.lease)
	require.NoError(t, e.s.Complete(t.Context(), e.key("k"), lock, []byte("late"), e.lease))
	e.requireReplay(t, e.key("k"), []byte("late"))

	lock = e.acquire(t, e.key("released"), e.lease)
	e.waitPast(time.Now(), e.lease)
	require.NoError(t, e.s.Release(t.Context(), e.key("released"), lock, time.Minute))
	assert.Equal(t, lock.Fence+1, e.acquire(t, e.key("released"), e.lease).Fence, "the released record kept its fence")
}

func staleOwner(t *testing.T, e *env) {
	old := e.acquire(t, e.key("k"), e.lease)
	e.waitPast(time.Now(), e.lease)
	cur := e.acquire(t, e.key("k"), e.lease)

	ctx := t.Context()
	assert.ErrorIs(t, e.s.Extend(ctx, e.key("k"), old, e.lease), idempotency.ErrLockLost)
	assert.ErrorIs(t, e.s.Complete(ctx, e.key("k"), old, []byte("stale"), e.lease), idempotency.ErrLockLost)
	assert.ErrorIs(t, e.s.Release(ctx, e.key("k"), old, time.Minute), idempotency.ErrLockLost)
	e.requireInProgress(t, e.key("k"))

	require.NoError(t, e.s.Complete(ctx, e.key("k"), cur, []byte("current"), e.lease))
	e.requireReplay(t, e.key("k"), []byte("current"))
}

func release(t *testing.T, e *env) {
	ctx, key := t.Context(), e.key("k")
	lock := e.acquire(t, key, e.lease)
	require.NoError(t, e.s.Release(ctx, key, lock, time.Minute))
	assert.ErrorIs(t, e.s.Complete(ctx, key, lock, []byte("r"), e.lease), idempotency.ErrLockLost, "complete after release")
	assert.ErrorIs(t, e.s.Extend(ctx, key, lock, e.lease), idempotency.ErrLockLost, "extend after release")
	next := e.acquire(t, key, e.lease)
	assert.Equal(t, lock.Fence+1, next.Fence, "the next claim's fence is above the released one")
	assert.ErrorIs(t, e.s.Release(ctx, key, lock, time.Minute), idempotency.ErrLockLost, "released lock against the next owner")
	e.requireInProgress(t, key)

	other := e.key("other")
	lock = e.acquire(t, other, e.lease)
	require.NoError(t, e.s.Release(ctx, other, lock, time.Minute))
	c, err := e.s.Claim(ctx, other, "another request", idempotency.NewToken(), e.lease)
	require.NoError(t, err, "a released record has no fingerprint to mismatch")
	assert.Equal(t, lock.Fence+1, c.Lock.Fence)
}

func completedRefusesRelease(t *testing.T, e *env) {
	lock := e.acquire(t, e.key("k"), e.lease)
	ctx := t.Context()
	require.NoError(t, e.s.Complete(ctx, e.key("k"), lock, []byte("r"), e.lease))
	assert.ErrorIs(t, e.s.Release(ctx, e.key("k"), lock, e.lease), idempotency.ErrLockLost)
	e.requireReplay(t, e.key("k"), []byte("r"))
}

func foreignLocks(t *testing.T, e *env) {
	lock := e.acquire(t, e.key("k"), e.lease)
	ctx := t.Context()
	for _, bad := range []idempotency.Lock{
		{},
		{Token: lock.Token},
		{Token: lock.Token, Fence: lock.Fence + 1},
		{Token: strings.Repeat("0", len(lock.Token)), Fence: lock.Fence},
		{Token: "not-mine", Fence: lock.Fence},
		// Tokens that begin or end like the owner's: a store that keeps
		// the token inside a larger value must compare it whole.
		{Token: lock.Token[:len(lock.Token)-1], Fence: lock.Fence},
		{Token: lock.Token + " ", Fence: lock.Fence},
		{Token: lock.Token + " 1", Fence: lock.Fence},
		{Token: lock.Token + "0", Fence: lock.Fence},
	} {
		assert.ErrorIs(t, e.s.Extend(ctx, e.key("k"), bad, e.lease), idempotency.ErrLockLost, "extend %+v", bad)
		assert.ErrorIs(t, e.s.Complete(ctx, e.key("k"), bad, []byte("x"), e.lease), idempotency.ErrLockLost, "complete %+v", bad)
		assert.ErrorIs(t, e.s.Release(ctx, e.key("k"), bad, e.lease), idempotency.ErrLockLost, "release %+v", bad)
	}
	assert.ErrorIs(t, e.s.Release(ctx, e.key("absent"), lock, e.lease), idempotency.ErrLockLost, "lock of another key")
	assert.ErrorIs(t, e.s.Extend(ctx, e.key("absent"), lock, e.lease), idempotency.ErrLockLost, "lock of another key")
	assert.ErrorIs(t, e.s.Complete(ctx, e.key("absent"), lock, nil, e.lease), idempotency.ErrLockLost, "lock of another key")
	e.requireInProgress(t, e.key("k"))
}

func extend(t *testing.T, e *env) {
	lock := e.acquire(t, e.key("k"), e.lease)
	start := time.Now()
	require.NoError(t, e.s.Extend(t.Context(), e.key("k"), lock, 4*e.lease))
	e.waitPast(start, e.lease)
	e.requireInProgress(t, e.key("k"))

	// An owner whose lease passed, but whom nobody took over, may extend.
	late := e.acquire(t, e.key("late"), e.lease)
	e.waitPast(time.Now(), e.lease)
	require.NoError(t, e.s.Extend(t.Context(), e.key("late"), late, 4*e.lease))
	e.requireInProgress(t, e.key("late"))
	require.NoError(t, e.s.Complete(t.Context(), e.key("late"), late, []byte("r"), e.lease))
}
