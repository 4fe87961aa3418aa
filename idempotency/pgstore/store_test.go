package pgstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/pgstore"
	"github.com/magicmagnets/resilience/idempotency/storetest"
)

func TestStorePassesTheContractSuite(t *testing.T) {
	pool := newPool(t)
	storetest.Run(t, func(*testing.T) idempotency.Store {
		return pgstore.New(pool, pgstore.Config{})
	}, storetest.StoredFence(func(t *testing.T, key string) int64 {
		var fence int64
		require.NoError(t, pool.QueryRow(t.Context(), "SELECT fence FROM "+pgstore.DefaultTable+" WHERE key = $1", []byte(key)).Scan(&fence))
		return fence
	}))
}

func TestTwoReplicasSharingTheStoreRunTheHandlerOnce(t *testing.T) {
	storetest.RunReplicas(t, func(t *testing.T) idempotency.Store {
		// Each replica has its own connection pool, as separate processes would.
		return pgstore.New(newPool(t), pgstore.Config{})
	})
}

func TestStorePassesTheContractSuiteInANamedTableWithASmallResultLimit(t *testing.T) {
	pool := newPool(t)
	s := pgstore.New(pool, pgstore.Config{Table: "public.Small Results", MaxResultSize: 64})
	require.NoError(t, s.Migrate(t.Context()))
	storetest.Run(t, func(*testing.T) idempotency.Store { return s }, storetest.MaxResultSize(64))
}

func TestMigrateIsIdempotentAndSafeConcurrently(t *testing.T) {
	pool := newPool(t)
	table := fmt.Sprintf("migrate_%d", time.Now().UnixNano())
	s := pgstore.New(pool, pgstore.Config{Table: table})
	t.Cleanup(func() { _, _ = pool.Exec(context.Background(), "DROP TABLE "+pgx.Identifier{table}.Sanitize()) })
	errs := make(chan error, 4)
	for range 4 {
		go func() { errs <- s.Migrate(t.Context()) }()
	}
	for range 4 {
		assert.NoError(t, <-errs)
	}
	assert.NoError(t, s.Migrate(t.Context()), "a second run changes nothing")
	assert.NoError(t, pgstore.Migrate(t.Context(), pool))
}

func TestNewPanicsOnProgrammerErrors(t *testing.T) {
	assert.PanicsWithValue(t, "pgstore: New: nil pool", func() { pgstore.New(nil, pgstore.Config{}) })
	pool := newPool(t)
	assert.Panics(t, func() { pgstore.New(pool, pgstore.Config{MaxResultSize: -1}) })
	assert.Panics(t, func() { pgstore.New(pool, pgstore.Config{Table: "a..b"}) })
	assert.Panics(t, func() { pgstore.New(pool, pgstore.Config{Timeout: -time.Second}) })
}

// A row past its retention stays until it is swept, so the next claim's
// fence is one more than the completed or released record's.
func TestFenceGoesOnAfterTheRetentionUntilTheRowIsSwept(t *testing.T) {
	pool := newPool(t)
	s := pgstore.New(pool, pgstore.Config{})
	ctx, prefix := t.Context(), "retained:"+idempotency.NewKey()+":"
	const retention = 50 * time.Millisecond
	for _, released := range []bool{false, true} {
		key := fmt.Sprint(prefix, released)
		c, err := s.Claim(ctx, key, "fp", idempotency.NewToken(), time.Minute)
		require.NoError(t, err)
		if released {
			require.NoError(t, s.Release(ctx, key, c.Lock, retention))
		} else {
			require.NoError(t, s.Complete(ctx, key, c.Lock, []byte("r"), retention))
		}
		require.Eventually(t, func() bool {
			var over bool
			require.NoError(t, pool.QueryRow(ctx, "SELECT purge_at <= clock_timestamp() FROM "+pgstore.DefaultTable+" WHERE key = $1", []byte(key)).Scan(&over))
			return over
		}, 10*time.Second, time.Millisecond, "the retention ends on the server's clock")
		next, err := s.Claim(ctx, key, "fp", idempotency.NewToken(), time.Minute)
		require.NoError(t, err)
		require.False(t, next.Replayed)
		assert.Equal(t, c.Lock.Fence+1, next.Lock.Fence, "released=%v", released)
	}
}
