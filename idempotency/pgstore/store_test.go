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
