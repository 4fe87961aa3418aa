package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/redisstore"
)

func TestKeyOfADeadOwnerRunsAgainOnlyAfterItsLeaseWithTheNextFence(t *testing.T) {
	const lease = 300 * time.Millisecond
	client := newClient(t)
	prefix := "dead:" + idempotency.NewKey() + ":"
	store := redisstore.New(client, redisstore.Config{Prefix: prefix})

	// The first owner claims the key and dies: it never completes or releases.
	claimed := time.Now()
	dead, err := store.Claim(t.Context(), "k", "", lease)
	require.NoError(t, err)

	ranAt := time.Time{}
	op := func(context.Context) (string, error) {
		ranAt = time.Now()
		return "done", nil
	}
	_, _, err = idempotency.Do(t.Context(), store, "k", op, idempotency.Options{Lease: lease})
	require.ErrorIs(t, err, idempotency.ErrInProgress, "the lease is live")
	assert.True(t, ranAt.IsZero(), "the operation did not run while the lease was live")

	v, replayed, err := idempotency.Do(t.Context(), store, "k", op, idempotency.Options{Lease: lease, Wait: true})
	require.NoError(t, err)
	assert.False(t, replayed)
	assert.Equal(t, "done", v)
	assert.GreaterOrEqual(t, ranAt.Sub(claimed), lease, "re-run only once the lease had passed")

	fence, err := client.HGet(t.Context(), prefix+"k", "n").Int64()
	require.NoError(t, err)
	assert.Equal(t, dead.Lock.Fence+1, fence, "the takeover has the next fence")
	assert.ErrorIs(t, store.Complete(t.Context(), "k", dead.Lock, []byte("late"), time.Minute), idempotency.ErrLockLost,
		"the dead owner, back, cannot overwrite the new result")
}
