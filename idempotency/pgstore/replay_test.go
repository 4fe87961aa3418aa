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

// A replay only reads: it neither locks the completed row (so a
// transaction holding a lock on it does not hold the replay up) nor writes
// it (the row's xmin and xmax stay as they were).
func TestReplayNeitherLocksNorWritesTheRow(t *testing.T) {
	pool := newPool(t)
	s := pgstore.New(pool, pgstore.Config{})
	ctx, key := t.Context(), "replay-reads:"+idempotency.NewKey()
	c, err := s.Claim(ctx, key, "fp", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	require.NoError(t, s.Complete(ctx, key, c.Lock, []byte("result"), time.Hour))
	version := func() (v string) {
		require.NoError(t, pool.QueryRow(ctx, "SELECT xmin::text || '/' || xmax::text FROM "+pgstore.DefaultTable+" WHERE key = $1", []byte(key)).Scan(&v))
		return v
	}

	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(context.Background()) }()
	_, err = tx.Exec(ctx, "SELECT FROM "+pgstore.DefaultTable+" WHERE key = $1 FOR SHARE", []byte(key))
	require.NoError(t, err)
	// A claim that locked the row exclusively would wait for tx until this
	// context ends.
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	again, err := s.Claim(short, key, "fp", idempotency.NewToken(), time.Minute)
	require.NoError(t, err, "the replay waited for the lock")
	assert.True(t, again.Replayed)
	assert.Equal(t, []byte("result"), again.Result)
	require.NoError(t, tx.Rollback(ctx))

	before := version() // tx's lock left its xmax
	for range 3 {
		_, err = s.Claim(ctx, key, "fp", idempotency.NewToken(), time.Minute)
		require.NoError(t, err)
	}
	assert.Equal(t, before, version(), "a replay wrote the row")
}
