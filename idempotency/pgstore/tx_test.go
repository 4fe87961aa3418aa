package pgstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/pgstore"
)

// chargeInTx writes a business row and completes key in one transaction,
// which it commits or rolls back.
func chargeInTx(t *testing.T, pool *pgxpool.Pool, store *pgstore.Store, key string, lock idempotency.Lock, commit bool) {
	t.Helper()
	ctx := t.Context()
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(context.Background()) }()
	_, err = tx.Exec(ctx, "INSERT INTO charges (key, amount) VALUES ($1, 50)", key)
	require.NoError(t, err)
	require.NoError(t, store.CompleteTx(ctx, tx, key, lock, []byte("charged"), time.Minute))
	if commit {
		require.NoError(t, tx.Commit(ctx))
	}
}

func charges(t *testing.T, pool *pgxpool.Pool, key string) int {
	var n int
	require.NoError(t, pool.QueryRow(t.Context(), "SELECT count(*) FROM charges WHERE key = $1", key).Scan(&n))
	return n
}

func TestCompleteTxCommitsOrRollsBackWithTheBusinessWrite(t *testing.T) {
	pool := newPool(t)
	_, err := pool.Exec(t.Context(), "CREATE TABLE IF NOT EXISTS charges (key text PRIMARY KEY, amount int NOT NULL)")
	require.NoError(t, err)
	store := pgstore.New(pool, pgstore.Config{})
	key := "tx:" + idempotency.NewKey()

	c, err := store.Claim(t.Context(), key, "fp", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	chargeInTx(t, pool, store, key, c.Lock, false)
	assert.Zero(t, charges(t, pool, key), "rolled back: no business row")
	_, err = store.Claim(t.Context(), key, "fp", idempotency.NewToken(), time.Minute)
	assert.ErrorIs(t, err, idempotency.ErrInProgress, "rolled back: no completed record, still the owner's")

	require.NoError(t, store.Release(t.Context(), key, c.Lock, time.Minute), "the owner still holds the key")
	c, err = store.Claim(t.Context(), key, "fp", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	require.False(t, c.Replayed)
	chargeInTx(t, pool, store, key, c.Lock, true)
	assert.Equal(t, 1, charges(t, pool, key), "committed: the business row")
	replay, err := store.Claim(t.Context(), key, "fp", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	assert.True(t, replay.Replayed, "committed: the completed record")
	assert.Equal(t, []byte("charged"), replay.Result)
}

func TestClaimWaitsForATransactionCompletingTheKey(t *testing.T) {
	pool := newPool(t)
	store := pgstore.New(pool, pgstore.Config{})
	key := "txwait:" + idempotency.NewKey()
	const lease = 200 * time.Millisecond
	c, err := store.Claim(t.Context(), key, "fp", idempotency.NewToken(), lease)
	require.NoError(t, err)

	tx, err := pool.Begin(t.Context())
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(context.Background()) }()
	require.NoError(t, store.CompleteTx(t.Context(), tx, key, c.Lock, []byte("r"), time.Minute))

	// A claim after the lease would take the key over, but the row is
	// locked by the transaction: the claim waits for its outcome.
	time.Sleep(lease) // for the lease to pass on the server's clock
	claimed := make(chan idempotency.Claim, 1)
	go func() {
		c, err := store.Claim(context.Background(), key, "fp", idempotency.NewToken(), time.Minute)
		assert.NoError(t, err)
		claimed <- c
	}()
	require.Eventually(t, func() bool {
		var waiting int
		_ = pool.QueryRow(t.Context(), "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%ON CONFLICT%'").Scan(&waiting)
		return waiting > 0
	}, 10*time.Second, time.Millisecond, "the claim waits on the transaction's row lock")
	assert.Empty(t, claimed, "the claim returned before the transaction ended")
	require.NoError(t, tx.Commit(t.Context()))
	assert.True(t, (<-claimed).Replayed, "the committed result is replayed, not taken over")
}

func TestCompleteTxRejectsANilTransaction(t *testing.T) {
	store := pgstore.New(newPool(t), pgstore.Config{})
	var tx pgx.Tx
	assert.Error(t, store.CompleteTx(t.Context(), tx, "k", idempotency.Lock{Token: "t", Fence: 1}, nil, time.Minute))
}

func TestCompleteTxOfATooLargeResultChangesNothingAndLeavesTheTransactionUsable(t *testing.T) {
	pool := newPool(t)
	store := pgstore.New(pool, pgstore.Config{MaxResultSize: 8})
	key := "txbig:" + idempotency.NewKey()
	c, err := store.Claim(t.Context(), key, "fp", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)

	tx, err := pool.Begin(t.Context())
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(context.Background()) }()
	err = store.CompleteTx(t.Context(), tx, key, c.Lock, []byte("far too large"), time.Minute)
	require.ErrorIs(t, err, idempotency.ErrResultTooLarge)
	require.NoError(t, store.CompleteTx(t.Context(), tx, key, c.Lock, []byte("small"), time.Minute), "the transaction goes on")
	require.NoError(t, tx.Commit(t.Context()))

	require.NoError(t, store.Complete(t.Context(), key, c.Lock, []byte("small"), time.Minute), "a re-send after the commit")
	replay, err := store.Claim(t.Context(), key, "fp", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	assert.Equal(t, []byte("small"), replay.Result)
}
