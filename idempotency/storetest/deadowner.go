package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
)

// acquisitions wraps a store and keeps the lock of every claim that
// acquired a key, so a test can see the fence a call of idempotency.Do got.
type acquisitions struct {
	idempotency.Store
	locks []idempotency.Lock
}

func (a *acquisitions) Claim(ctx context.Context, key, fingerprint, token string, lease time.Duration) (idempotency.Claim, error) {
	c, err := a.Store.Claim(ctx, key, fingerprint, token, lease)
	if err == nil && !c.Replayed {
		a.locks = append(a.locks, c.Lock)
	}
	return c, err
}

// deadOwner: an owner claims a key and dies. idempotency.Do over the same
// store refuses while the lease is live, and with Wait runs the operation
// once the lease has passed, under the next fence; the dead owner, back,
// cannot overwrite the new result.
func deadOwner(t *testing.T, e *env) {
	s := &acquisitions{Store: e.s}
	key := e.key("k")
	claimed := time.Now()
	dead, err := s.Claim(t.Context(), key, "", idempotency.NewToken(), e.lease)
	require.NoError(t, err)
	require.False(t, dead.Replayed)

	var ranAt time.Time
	op := func(context.Context) (string, error) {
		ranAt = time.Now()
		return "done", nil
	}
	_, _, err = idempotency.Do(t.Context(), s, key, op, idempotency.Options{Lease: e.lease})
	require.ErrorIs(t, err, idempotency.ErrInProgress, "the lease is live")
	assert.True(t, ranAt.IsZero(), "the operation did not run while the lease was live")

	v, replayed, err := idempotency.Do(t.Context(), s, key, op, idempotency.Options{Lease: e.lease, Wait: true})
	require.NoError(t, err)
	assert.False(t, replayed)
	assert.Equal(t, "done", v)
	assert.GreaterOrEqual(t, ranAt.Sub(claimed), e.lease, "re-run only once the lease had passed")

	require.Len(t, s.locks, 2, "the dead owner's claim and the takeover")
	assert.Equal(t, dead.Lock.Fence+1, s.locks[1].Fence, "the takeover has the next fence")
	if e.storedFence != nil {
		assert.Equal(t, dead.Lock.Fence+1, e.storedFence(t, key), "the record holds the takeover's fence")
	}
	assert.ErrorIs(t, s.Complete(t.Context(), key, dead.Lock, []byte("late"), time.Minute), idempotency.ErrLockLost,
		"the dead owner, back, cannot overwrite the new result")

	ranAt = time.Time{}
	v, replayed, err = idempotency.Do(t.Context(), s, key, op, idempotency.Options{Lease: e.lease})
	require.NoError(t, err)
	assert.True(t, replayed, "the takeover's result is kept")
	assert.Equal(t, "done", v)
	assert.True(t, ranAt.IsZero(), "a replay does not run the operation")
}
