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
	t.Cleanup(func() { _, _ = pool.Exec(context.Background(), "DROP TABLE "+name) })
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
