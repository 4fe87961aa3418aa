package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
)

// A client library re-sends a command after a dropped connection, and the
// first send may have been applied: these cases call each method twice, as
// the server would receive it, and require the second call to get the answer
// the first had.

func reSentClaim(t *testing.T, e *env) {
	key, token := e.key("k"), idempotency.NewToken()
	first := e.acquireAs(t, key, token, e.lease)
	again := e.acquireAs(t, key, token, e.lease) // not ErrInProgress
	assert.Equal(t, first, again, "a re-sent claim gets the same lock")
	e.requireInProgress(t, key) // another claimer still meets the owner
	require.NoError(t, e.s.Complete(t.Context(), key, first, []byte("r"), e.lease))
	e.requireReplay(t, key, []byte("r"))
}

func reClaimRenews(t *testing.T, e *env) {
	key, token := e.key("k"), idempotency.NewToken()
	start := time.Now()
	lock := e.acquireAs(t, key, token, e.lease)
	e.waitPast(start, e.lease/2)
	assert.Equal(t, lock, e.acquireAs(t, key, token, e.lease))
	e.waitPast(start, e.lease) // the first lease has passed; the renewed one has not
	remaining := e.requireInProgress(t, key)
	if e.fake {
		assert.Equal(t, e.lease/2, remaining, "the lease runs from the re-claim")
	}
	require.NoError(t, e.s.Complete(t.Context(), key, lock, []byte("r"), e.lease))
}

func reClaimExpired(t *testing.T, e *env) {
	key, token := e.key("k"), idempotency.NewToken()
	lock := e.acquireAs(t, key, token, e.lease)
	e.waitPast(time.Now(), e.lease)
	again := e.acquireAs(t, key, token, e.lease)
	assert.Equal(t, lock, again, "its own expired record: the same fence, not a takeover")
	e.requireInProgress(t, key) // the lease was renewed
	require.NoError(t, e.s.Complete(t.Context(), key, lock, []byte("r"), e.lease))
	e.requireReplay(t, key, []byte("r"))
}

func reSentClaimCompleted(t *testing.T, e *env) {
	key, token := e.key("k"), idempotency.NewToken()
	lock := e.acquireAs(t, key, token, e.lease)
	require.NoError(t, e.s.Complete(t.Context(), key, lock, []byte("r"), e.lease))
	e.requireReplayAs(t, key, token, []byte("r"))
}

// orphanedClaim: the store applied a claim but its reply was lost, so the
// claimer does not know it owns the key. Claiming again with the same token,
// it owns the key at once, under the fence the first send was given, instead
// of meeting its own record as "in progress" for a whole lease.
func orphanedClaim(t *testing.T, e *env) {
	ctx, key, token := t.Context(), e.key("k"), idempotency.NewToken()
	_, _ = e.s.Claim(ctx, key, "fp", token, e.lease) // the reply is lost
	e.requireInProgress(t, key)                      // the orphan holds the key against others
	lock := e.acquireAs(t, key, token, e.lease)
	assert.Equal(t, int64(1), lock.Fence, "the fence the lost claim was given")
	require.NoError(t, e.s.Complete(ctx, key, lock, []byte("r"), e.lease))
	e.requireReplay(t, key, []byte("r"))

	// The same after a release: the orphan's fence is the next one.
	key = e.key("after-release")
	released := e.acquire(t, key, e.lease)
	require.NoError(t, e.s.Release(ctx, key, released, time.Minute))
	token = idempotency.NewToken()
	_, _ = e.s.Claim(ctx, key, "fp", token, e.lease)
	assert.Equal(t, released.Fence+1, e.acquireAs(t, key, token, e.lease).Fence)
}

func reSentComplete(t *testing.T, e *env) {
	ctx, key := t.Context(), e.key("k")
	lock := e.acquire(t, key, e.lease)
	require.NoError(t, e.s.Complete(ctx, key, lock, []byte("first"), e.lease))
	completed := time.Now()
	require.NoError(t, e.s.Complete(ctx, key, lock, []byte("second"), 4*e.lease), "a re-send succeeds")
	e.requireReplay(t, key, []byte("first"))
	e.waitPast(completed, e.lease)
	next := e.acquire(t, key, e.lease) // the re-send did not lengthen the retention
	assert.NotEqual(t, lock.Token, next.Token)
}

func reSentRelease(t *testing.T, e *env) {
	ctx, key := t.Context(), e.key("k")
	lock := e.acquire(t, key, e.lease)
	require.NoError(t, e.s.Release(ctx, key, lock, time.Minute))
	require.NoError(t, e.s.Release(ctx, key, lock, time.Minute), "a re-send succeeds")
	next := e.acquire(t, key, e.lease)
	assert.Equal(t, lock.Fence+1, next.Fence, "the re-send did not change the released record")
	assert.ErrorIs(t, e.s.Release(ctx, key, lock, time.Minute), idempotency.ErrLockLost, "a re-send after the next claim")
	e.requireInProgress(t, key)
	require.NoError(t, e.s.Complete(ctx, key, next, []byte("r"), e.lease))
}

// extendAfterComplete: a heartbeat's Extend that crossed its owner's
// Complete on the wire succeeds and changes nothing.
func extendAfterComplete(t *testing.T, e *env) {
	ctx, key := t.Context(), e.key("k")
	lock := e.acquire(t, key, e.lease)
	require.NoError(t, e.s.Complete(ctx, key, lock, []byte("r"), e.lease))
	completed := time.Now()
	require.NoError(t, e.s.Extend(ctx, key, lock, 4*e.lease))
	e.requireReplay(t, key, []byte("r"))
	e.waitPast(completed, e.lease)
	next := e.acquire(t, key, e.lease) // the Extend did not lengthen the retention
	assert.NotEqual(t, lock.Token, next.Token)
}

// mismatchBeforeToken: a claim under the owner's own token but with another
// fingerprint is another request, not a re-send.
func mismatchBeforeToken(t *testing.T, e *env) {
	ctx, key, token := t.Context(), e.key("k"), idempotency.NewToken()
	lock := e.acquireAs(t, key, token, e.lease)
	_, err := e.s.Claim(ctx, key, "other", token, e.lease)
	assert.ErrorIs(t, err, idempotency.ErrMismatch, "in progress")
	assert.Equal(t, lock, e.acquireAs(t, key, token, e.lease), "the mismatch changed nothing")

	require.NoError(t, e.s.Complete(ctx, key, lock, []byte("r"), e.lease))
	_, err = e.s.Claim(ctx, key, "other", token, e.lease)
	assert.ErrorIs(t, err, idempotency.ErrMismatch, "completed")
	e.requireReplayAs(t, key, token, []byte("r"))
}
