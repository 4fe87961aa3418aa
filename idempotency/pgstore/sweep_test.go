package pgstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/pgstore"
)

// sweepTable returns a store on a fresh table of its own, dropped at
// cleanup, so sweeps see only the test's rows.
func sweepTable(t *testing.T, pool *pgxpool.Pool) (*pgstore.Store, func() int) {
	table := fmt.Sprintf("sweep_%d", time.Now().UnixNano())
	s := pgstore.New(pool, pgstore.Config{Table: table})
	require.NoError(t, s.Migrate(t.Context()))
	t.Cleanup(func() { _, _ = pool.Exec(context.Background(), "DROP TABLE "+pgx.Identifier{table}.Sanitize()) })
	return s, func() int {
		var n int
		require.NoError(t, pool.QueryRow(t.Context(), "SELECT count(*) FROM "+pgx.Identifier{table}.Sanitize()).Scan(&n))
		return n
	}
}

func TestSweepDeletesOnlyRowsWhoseTimeHasPassed(t *testing.T) {
	const short = 100 * time.Millisecond
	s, rows := sweepTable(t, newPool(t))
	ctx := t.Context()
	for i := range 5 { // completed, retention passes
		c, err := s.Claim(ctx, fmt.Sprint("done", i), "", idempotency.NewToken(), time.Minute)
		require.NoError(t, err)
		require.NoError(t, s.Complete(ctx, fmt.Sprint("done", i), c.Lock, nil, short))
	}
	_, err := s.Claim(ctx, "abandoned", "", idempotency.NewToken(), short/2) // kept until a lease after its lease
	require.NoError(t, err)
	c, err := s.Claim(ctx, "kept", "", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	require.NoError(t, s.Complete(ctx, "kept", c.Lock, nil, time.Minute))
	_, err = s.Claim(ctx, "running", "", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	for key, retention := range map[string]time.Duration{"released, retention passes": short, "released, kept": time.Minute} {
		c, err := s.Claim(ctx, key, "", idempotency.NewToken(), time.Minute)
		require.NoError(t, err)
		require.NoError(t, s.Release(ctx, key, c.Lock, retention))
	}

	n, err := s.Sweep(ctx, 100)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing has expired yet")

	time.Sleep(short + time.Millisecond)
	n, err = s.Sweep(ctx, 4)
	require.NoError(t, err)
	assert.Equal(t, 4, n, "a full batch")
	n, err = s.Sweep(ctx, 4)
	require.NoError(t, err)
	assert.Equal(t, 3, n, "the rest")
	assert.Equal(t, 3, rows(), "live rows, and the released row within its retention, stay")
	c, err = s.Claim(ctx, "released, kept", "", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	assert.Equal(t, int64(2), c.Lock.Fence, "the released row kept its fence")
}

func TestRunSweeperSweepsUntilItsContextEnds(t *testing.T) {
	s, rows := sweepTable(t, newPool(t))
	for i := range 10 {
		_, err := s.Claim(t.Context(), fmt.Sprint(i), "", idempotency.NewToken(), time.Millisecond)
		require.NoError(t, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.RunSweeper(ctx, time.Millisecond, 3) }()
	require.Eventually(t, func() bool { return rows() == 0 }, 10*time.Second, time.Millisecond)
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
}

func TestSweepPanicsOnANonPositiveBatch(t *testing.T) {
	s := pgstore.New(newPool(t), pgstore.Config{})
	assert.PanicsWithValue(t, "pgstore: Sweep: batch 0 is not positive", func() { _, _ = s.Sweep(t.Context(), 0) })
	assert.Panics(t, func() { _ = s.RunSweeper(t.Context(), 0, 1) })
}
