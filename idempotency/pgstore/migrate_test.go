package pgstore_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/pgstore"
)

// earlierLayout is the table as releases before the released column made
// it: a completed row had no token, and a release deleted the row.
const earlierLayout = `
CREATE TABLE %[1]s (
	key         bytea       PRIMARY KEY CHECK (octet_length(key) BETWEEN 1 AND 255),
	fingerprint bytea       NOT NULL,
	token       text,
	fence       bigint      NOT NULL,
	result      bytea,
	deadline    timestamptz NOT NULL,
	purge_at    timestamptz NOT NULL
);
INSERT INTO %[1]s VALUES
	('running', 'fp', 'old-token', 3, NULL, now() + interval '1 minute', now() + interval '2 minutes'),
	('released', 'fp', 'old-token', 5, NULL, now() + interval '1 minute', now() + interval '2 minutes'),
	('done', 'fp', NULL, 2, 'old result', now() + interval '1 minute', now() + interval '1 minute');`

func TestMigrateUpgradesATableOfTheEarlierLayout(t *testing.T) {
	pool := newPool(t)
	ctx := t.Context()
	table := fmt.Sprintf("earlier_%d", time.Now().UnixNano())
	name := pgx.Identifier{table}.Sanitize()
	dropAtCleanup(t, pool, table)
	_, err := pool.Exec(ctx, fmt.Sprintf(earlierLayout, name))
	require.NoError(t, err)

	s := pgstore.New(pool, pgstore.Config{Table: table})
	require.NoError(t, s.Migrate(ctx))
	require.NoError(t, s.Migrate(ctx), "a second run changes nothing")

	c, err := s.Claim(ctx, "done", "fp", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	assert.True(t, c.Replayed, "a completed row of the earlier layout replays")
	assert.Equal(t, []byte("old result"), c.Result)

	_, err = s.Claim(ctx, "running", "fp", idempotency.NewToken(), time.Minute)
	assert.ErrorIs(t, err, idempotency.ErrInProgress, "an in-progress row of the earlier layout is still its owner's")
	old := idempotency.Lock{Token: "old-token", Fence: 3}
	require.NoError(t, s.Extend(ctx, "running", old, time.Minute))
	require.NoError(t, s.Complete(ctx, "running", old, []byte("r"), time.Minute))
	require.NoError(t, s.Complete(ctx, "running", old, []byte("r"), time.Minute), "a re-send")

	require.NoError(t, s.Release(ctx, "released", idempotency.Lock{Token: "old-token", Fence: 5}, time.Minute))
	c, err = s.Claim(ctx, "released", "fp", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	assert.Equal(t, int64(6), c.Lock.Fence)
}

// migratedTable returns a store on a fresh migrated table of its own, the
// name of its claim function, and the pool.
func migratedTable(t *testing.T) (*pgstore.Store, string, *pgxpool.Pool) {
	pool := newPool(t)
	table := fmt.Sprintf("claimfn_%d", time.Now().UnixNano())
	s := pgstore.New(pool, pgstore.Config{Table: table})
	dropAtCleanup(t, pool, table)
	require.NoError(t, s.Migrate(t.Context()))
	return s, pgx.Identifier{table + "_claim"}.Sanitize() + "(bytea, bytea, text, interval)", pool
}

// A table migrated before the claim function existed keeps working: the
// store finds the function missing and runs the claim statement itself,
// until Migrate creates the function.
func TestClaimWorksOnATableWithoutTheClaimFunctionUntilMigrateCreatesIt(t *testing.T) {
	s, fn, pool := migratedTable(t)
	ctx := t.Context()
	_, err := pool.Exec(ctx, "DROP FUNCTION "+fn)
	require.NoError(t, err)

	c, err := s.Claim(ctx, "k", "fp", idempotency.NewToken(), time.Minute)
	require.NoError(t, err, "a claim without the function")
	_, err = s.Claim(ctx, "k", "fp", idempotency.NewToken(), time.Minute)
	assert.ErrorIs(t, err, idempotency.ErrInProgress)
	require.NoError(t, s.Complete(ctx, "k", c.Lock, []byte("r"), time.Minute))
	again, err := s.Claim(ctx, "k", "fp", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	assert.True(t, again.Replayed)
	assert.Equal(t, []byte("r"), again.Result)
	_, err = s.Claim(ctx, "k", "other", idempotency.NewToken(), time.Minute)
	assert.ErrorIs(t, err, idempotency.ErrMismatch)

	require.NoError(t, s.Migrate(ctx))
	var exists bool
	require.NoError(t, pool.QueryRow(ctx, "SELECT to_regprocedure($1) IS NOT NULL", fn).Scan(&exists))
	require.True(t, exists, "Migrate creates the function")
	breakFunction(t, pool, fn)
	_, err = s.Claim(ctx, "new", "fp", idempotency.NewToken(), time.Minute)
	assert.ErrorContains(t, err, "claim function called", "after Migrate the store calls the function again")
}

// breakFunction replaces the claim function fn with one that fails.
func breakFunction(t *testing.T, pool *pgxpool.Pool, fn string) {
	t.Helper()
	_, err := pool.Exec(t.Context(), "CREATE OR REPLACE FUNCTION "+strings.Replace(fn, "(bytea, bytea, text, interval)", "(k bytea, f bytea, tok text, l interval)", 1)+`
		RETURNS TABLE (claim_acquired boolean, claim_fence bigint, claim_same boolean,
			claim_completed boolean, claim_released boolean, claim_mine boolean,
			claim_result bytea, claim_remaining bigint)
		LANGUAGE plpgsql AS $$ BEGIN RAISE 'claim function called'; END $$`)
	require.NoError(t, err)
}

// A replay only reads the record: the claim function, which holds the
// INSERT, runs only for a key that is not completed.
func TestReplayDoesNotCallTheClaimFunction(t *testing.T) {
	s, fn, pool := migratedTable(t)
	ctx := t.Context()
	c, err := s.Claim(ctx, "k", "fp", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	require.NoError(t, s.Complete(ctx, "k", c.Lock, []byte("r"), time.Minute))
	breakFunction(t, pool, fn)

	again, err := s.Claim(ctx, "k", "fp", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	assert.True(t, again.Replayed)
	assert.Equal(t, []byte("r"), again.Result)
	_, err = s.Claim(ctx, "k", "other", idempotency.NewToken(), time.Minute)
	assert.ErrorIs(t, err, idempotency.ErrMismatch, "a completed key with another fingerprint")
	_, err = s.Claim(ctx, "other", "fp", idempotency.NewToken(), time.Minute)
	assert.ErrorContains(t, err, "claim function called", "a new key calls the function")
}

// Migrate makes the claim function again when its body is not the one this
// release installs (an earlier release's, or one changed by hand).
func TestMigrateRestoresAClaimFunctionWhoseBodyDiffers(t *testing.T) {
	s, fn, pool := migratedTable(t)
	ctx := t.Context()
	breakFunction(t, pool, fn)
	_, err := s.Claim(ctx, "k", "fp", idempotency.NewToken(), time.Minute)
	require.ErrorContains(t, err, "claim function called")

	require.NoError(t, s.Migrate(ctx))
	_, err = s.Claim(ctx, "k", "fp", idempotency.NewToken(), time.Minute)
	assert.NoError(t, err)
}

// Migrate leaves a claim function that is up to date as it is, without
// writing the catalog.
func TestMigrateLeavesAnUpToDateClaimFunctionAlone(t *testing.T) {
	s, fn, pool := migratedTable(t)
	ctx := t.Context()
	version := func() (v string) {
		require.NoError(t, pool.QueryRow(ctx, "SELECT oid::text || '/' || xmin::text FROM pg_proc WHERE oid = to_regprocedure($1)", fn).Scan(&v))
		return v
	}
	before := version()
	require.NoError(t, s.Migrate(ctx))
	assert.Equal(t, before, version())
}
