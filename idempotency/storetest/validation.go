package storetest

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
)

func invalidKeys(t *testing.T, e *env) {
	ctx := t.Context()
	lock := idempotency.Lock{Token: "t", Fence: 1}
	long := e.key(strings.Repeat("x", idempotency.MaxKeyLen+1-len(e.key(""))))
	require.Len(t, long, idempotency.MaxKeyLen+1)
	for _, key := range []string{"", long} {
		_, err := e.s.Claim(ctx, key, "fp", idempotency.NewToken(), e.lease)
		assert.ErrorIs(t, err, idempotency.ErrInvalidKey, "claim of a %d-byte key", len(key))
		assert.ErrorIs(t, e.s.Complete(ctx, key, lock, nil, e.lease), idempotency.ErrInvalidKey)
		assert.ErrorIs(t, e.s.Release(ctx, key, lock, e.lease), idempotency.ErrInvalidKey)
		assert.ErrorIs(t, e.s.Extend(ctx, key, lock, e.lease), idempotency.ErrInvalidKey)
	}
	// Nothing was stored for the rejected key: its 255-byte prefix is free.
	e.acquire(t, long[:idempotency.MaxKeyLen], e.lease)
}

func invalidTokens(t *testing.T, e *env) {
	ctx, key := t.Context(), e.key("k")
	for _, token := range []string{"", strings.Repeat("t", idempotency.MaxTokenLen+1), "tok en", "tok\x00en", "jeton-\xc3\xa9"} {
		_, err := e.s.Claim(ctx, key, "fp", token, e.lease)
		assert.ErrorIs(t, err, idempotency.ErrInvalidToken, "a %d-byte token", len(token))
	}
	// Nothing was stored: the key is absent, and the longest token is valid.
	lock := e.acquireAs(t, key, strings.Repeat("t", idempotency.MaxTokenLen), e.lease)
	assert.Equal(t, int64(1), lock.Fence)
	require.NoError(t, e.s.Complete(ctx, key, lock, []byte("r"), e.lease))
	e.requireReplay(t, key, []byte("r"))
}

func binaryKeys(t *testing.T, e *env) {
	base := e.key("")
	keys := []string{
		base + "a\x00b",
		base + "a\x00c", // differs only after a NUL
		base + "a",
		base + "\xff\xfe\x00\x01",
		base + strings.Repeat("\x00", idempotency.MaxKeyLen-len(base)),
		base + strings.Repeat("\x00", idempotency.MaxKeyLen-len(base)-1) + "\x01",
		base + strings.Repeat("\x00\xff", idempotency.MaxKeyLen)[:idempotency.MaxKeyLen-len(base)],
	}
	for i, key := range keys {
		lock := e.acquire(t, key, e.lease)
		require.NoError(t, e.s.Complete(t.Context(), key, lock, []byte{byte(i)}, e.lease))
	}
	for i, key := range keys {
		e.requireReplay(t, key, []byte{byte(i)})
	}
}

func binaryFingerprints(t *testing.T, e *env) {
	ctx := t.Context()
	key := e.key("k")
	const fp = "fp\x00\xff"
	others := []string{"", "fp", "fp\x00", "fp\x00\xfe", "fp\x00\xff\x00", "FP\x00\xff"}
	requireMismatches := func(state string) {
		t.Helper()
		for _, other := range others {
			_, err := e.s.Claim(ctx, key, other, idempotency.NewToken(), e.lease)
			assert.ErrorIs(t, err, idempotency.ErrMismatch, "%s, fingerprint %q", state, other)
		}
	}
	c, err := e.s.Claim(ctx, key, fp, idempotency.NewToken(), e.lease)
	require.NoError(t, err)
	require.False(t, c.Replayed)
	requireMismatches("in progress")
	e.requireInProgressWith(t, key, fp)

	require.NoError(t, e.s.Complete(ctx, key, c.Lock, []byte("\x00"), e.lease))
	requireMismatches("completed")
	replay, err := e.s.Claim(ctx, key, fp, idempotency.NewToken(), e.lease)
	require.NoError(t, err)
	assert.True(t, replay.Replayed)
	assert.Equal(t, []byte("\x00"), replay.Result)
}

func invalidDurations(t *testing.T, e *env) {
	ctx := t.Context()
	for _, d := range []time.Duration{0, -time.Second} {
		_, err := e.s.Claim(ctx, e.key("k"), "fp", idempotency.NewToken(), d)
		assert.ErrorIs(t, err, idempotency.ErrInvalidDuration, "claim, lease %v", d)
	}
	lock := e.acquire(t, e.key("k"), e.lease)
	for _, d := range []time.Duration{0, -time.Second} {
		assert.ErrorIs(t, e.s.Extend(ctx, e.key("k"), lock, d), idempotency.ErrInvalidDuration, "extend %v", d)
		assert.ErrorIs(t, e.s.Complete(ctx, e.key("k"), lock, []byte("r"), d), idempotency.ErrInvalidDuration, "complete, retention %v", d)
		assert.ErrorIs(t, e.s.Release(ctx, e.key("k"), lock, d), idempotency.ErrInvalidDuration, "release, retention %v", d)
	}
	// The rejected calls changed nothing.
	e.requireInProgress(t, e.key("k"))
	require.NoError(t, e.s.Complete(ctx, e.key("k"), lock, []byte("r"), e.lease))
}

// longestDurations: a lease or retention of math.MaxInt64 means "never",
// not a deadline that wrapped around into the past.
func longestDurations(t *testing.T, e *env) {
	ctx, key := t.Context(), e.key("k")
	const never = time.Duration(math.MaxInt64)
	lock := e.acquire(t, key, never)
	remaining := e.requireInProgress(t, key)
	assert.Greater(t, remaining, never/2, "the lease has nearly all of its length left")
	require.NoError(t, e.s.Extend(ctx, key, lock, never))
	e.requireInProgress(t, key)
	require.NoError(t, e.s.Complete(ctx, key, lock, []byte("r"), never))
	e.requireReplay(t, key, []byte("r"))

	key = e.key("released")
	lock = e.acquire(t, key, e.lease)
	require.NoError(t, e.s.Release(ctx, key, lock, never))
	assert.Equal(t, lock.Fence+1, e.acquire(t, key, e.lease).Fence)
}

func oversized(t *testing.T, e *env) {
	ctx := t.Context()
	lock := e.acquire(t, e.key("big"), e.lease)
	err := e.s.Complete(ctx, e.key("big"), lock, make([]byte, e.maxResultSize+1), e.lease)
	require.ErrorIs(t, err, idempotency.ErrResultTooLarge)
	e.requireInProgress(t, e.key("big")) // changed nothing: still the owner's
	require.NoError(t, e.s.Complete(ctx, e.key("big"), lock, []byte("small"), e.lease), "the owner records something smaller")
	e.requireReplay(t, e.key("big"), []byte("small"))

	limit := bytes.Repeat([]byte{0xab}, e.maxResultSize)
	lock = e.acquire(t, e.key("limit"), e.lease)
	require.NoError(t, e.s.Complete(ctx, e.key("limit"), lock, limit, e.lease))
	e.requireReplay(t, e.key("limit"), limit)
}
