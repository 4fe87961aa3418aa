package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/pgstore"
)

func TestKeyOfADeadOwnerRunsAgainOnlyAfterItsLeaseWithTheNextFence(t *testing.T) {
	const lease = 300 * time.Millisecond
	pool := newPool(t)
	store := pgstore.New(pool, pgstore.Config{})
	key := "dead:" + idempotency.NewKey()

	// The first owner claims the key and dies: it never completes or releases.
	claimed := time.Now()
	dead, err := store.Claim(t.Context(), key, "", lease)
	require.NoError(t, err)

	ranAt := time.Time{}
	op := func(context.Context) (string, error) {
		ranAt = time.Now()
		return "done", nil
	}
	_, _, err = idempotency.Do(t.Context(), store, key, op, idempotency.Options{Lease: lease})
	require.ErrorIs(t, err, idempotency.ErrInProgress, "the lease is live")
	assert.True(t, ranAt.IsZero(), "the operation did not run while the lease was live")

	v, replayed, err := idempotency.Do(t.Context(), store, key, op, idempotency.Options{Lease: lease, Wait: true})
	require.NoError(t, err)
	assert.False(t, replayed)
	assert.Equal(t, "done", v)
	assert.GreaterOrEqual(t, ranAt.Sub(claimed), lease, "re-run only once the lease had passed")

	var fence int64
	require.NoError(t, pool.QueryRow(t.Context(), "SELECT fence FROM idempotency_keys WHERE key = $1", []byte(key)).Scan(&fence))
	assert.Equal(t, dead.Lock.Fence+1, fence, "the takeover has the next fence")
	assert.ErrorIs(t, store.Complete(t.Context(), key, dead.Lock, []byte("late"), time.Minute), idempotency.ErrLockLost,
		"the dead owner, back, cannot overwrite the new result")
}
