package pgstore

import (
	"strings"

	"github.com/jackc/pgx/v5"
)

// DefaultTable is the table used when Config.Table is empty.
const DefaultTable = "idempotency_keys"

// migrateTag dollar-quotes the body of the migration's DO block, so a table
// name must not contain it.
const migrateTag = "$pgstore_migrate$"

// statements holds the SQL of one table.
type statements struct {
	migrate, claim, complete, release, extend, sweep string
}

// A row is one key's record, in one of three states (ABSENT has no row):
//
//	IN_PROGRESS  result IS NULL and NOT released
//	COMPLETED    result IS NOT NULL
//	RELEASED     released
//
// and its columns:
//
//	key          the idempotency key (bytea, 1–255 bytes)
//	fingerprint  the request's fingerprint (bytea)
//	token        the owner's token; kept once completed or released (rows
//	             completed before the released column existed have NULL)
//	fence        the fencing counter
//	result       the result once completed
//	released     whether the owner released the key: the row counts as
//	             absent for Claim, and keeps its fence for the next claim
//	deadline     the lease's end while in progress, the retention's once
//	             completed, the release's time once released
//	purge_at     when Sweep may delete the row: a lease after the lease's end
//	             while in progress, the retention's end once completed or
//	             released
func newStatements(table string) statements {
	parts := strings.Split(table, ".")
	name := pgx.Identifier(parts).Sanitize()
	index := pgx.Identifier{parts[len(parts)-1] + "_purge_at_idx"}.Sanitize()
	r := strings.NewReplacer("{T}", name, "{I}", index, "{Q}", strings.ReplaceAll(name, "'", "''"), "{TAG}", migrateTag)
	return statements{
		// One simple-protocol message, so one implicit transaction. The
		// advisory lock serialises migrations from replicas starting
		// together, whose CREATE … IF NOT EXISTS could otherwise collide in
		// the catalog. A table of the earlier layout gains the released
		// column (no rewrite: its default is a constant); the catalog is
		// read first so that a table already up to date is not locked.
		migrate: r.Replace(`
SELECT pg_advisory_xact_lock(7021964310529181);
CREATE TABLE IF NOT EXISTS {T} (
	key         bytea       PRIMARY KEY CHECK (octet_length(key) BETWEEN 1 AND 255),
	fingerprint bytea       NOT NULL,
	token       text,
	fence       bigint      NOT NULL,
	result      bytea,
	released    boolean     NOT NULL DEFAULT false,
	deadline    timestamptz NOT NULL,
	purge_at    timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS {I} ON {T} (purge_at);
DO {TAG} BEGIN
	IF NOT EXISTS (SELECT FROM pg_attribute
		WHERE attrelid = '{Q}'::regclass AND attname = 'released' AND NOT attisdropped) THEN
		ALTER TABLE {T} ADD COLUMN released boolean NOT NULL DEFAULT false;
	END IF;
END {TAG};`),

		// $1 key, $2 fingerprint, $3 token, $4 lease. One clock reading (c)
		// serves the whole statement. The INSERT takes the key when it is
		// absent, released or expired, and acquires it again, with the same
		// fence, for the owner whose token it holds in progress (a re-sent
		// claim), unless the fingerprints differ. Otherwise the SELECT
		// returns the record as the statement's snapshot saw it (cur).
		// Under contention that snapshot can miss a row committed after it
		// was taken (no row) or show an older version (an expired or
		// released one, or one the INSERT would have taken): the caller
		// then asks again.
		//
		// A record the snapshot shows completed and unexpired is one the
		// INSERT would not take (a completed record changes only once it
		// has expired), so the INSERT is not tried for it: a replay then
		// only reads, and neither locks the row nor writes (ON CONFLICT
		// locks the row it conflicts with even when it updates nothing,
		// which costs a transaction id and a commit record).
		claim: r.Replace(`
WITH c AS (SELECT clock_timestamp() AS now),
cur AS MATERIALIZED (
	SELECT fingerprint, token, fence, result, released, deadline FROM {T} WHERE key = $1
),
ins AS (
	INSERT INTO {T} AS r (key, fingerprint, token, fence, deadline, purge_at)
	SELECT $1, $2, $3, 1, c.now + $4::interval, c.now + 2 * $4::interval FROM c
	WHERE NOT EXISTS (SELECT FROM cur WHERE cur.result IS NOT NULL AND cur.deadline > c.now)
	ON CONFLICT (key) DO UPDATE SET
		fingerprint = excluded.fingerprint, token = excluded.token,
		fence = CASE WHEN r.result IS NULL AND NOT r.released AND r.token = excluded.token
			THEN r.fence ELSE r.fence + 1 END,
		result = NULL, released = false, deadline = excluded.deadline, purge_at = excluded.purge_at
	WHERE r.released
		OR (r.result IS NULL AND r.token = excluded.token AND r.fingerprint = excluded.fingerprint)
		OR (r.deadline <= excluded.deadline - $4::interval
			AND NOT (r.result IS NULL AND r.token IS NOT DISTINCT FROM excluded.token))
	RETURNING r.fence
)
SELECT true, fence, true, false, false, false, NULL::bytea, 0::bigint FROM ins
UNION ALL
SELECT false, r.fence, r.fingerprint = $2, r.result IS NOT NULL, r.released,
	r.result IS NULL AND r.token IS NOT DISTINCT FROM $3,
	CASE WHEN r.result IS NOT NULL AND r.fingerprint = $2 THEN r.result END,
	(extract(epoch FROM r.deadline - c.now) * 1000000)::bigint
FROM cur r, c
WHERE NOT EXISTS (SELECT FROM ins)`),

		// $1 key, $2 token, $3 fence, $4 result, $5 retention. A record
		// already completed under the lock (a re-send) matches and keeps
		// its result and retention.
		complete: r.Replace(`
UPDATE {T} SET
	deadline = CASE WHEN result IS NULL THEN c.now + $5::interval ELSE deadline END,
	purge_at = CASE WHEN result IS NULL THEN c.now + $5::interval ELSE purge_at END,
	result = coalesce(result, $4)
FROM (SELECT clock_timestamp() AS now) c
WHERE key = $1 AND token = $2 AND fence = $3 AND NOT released`),

		// $1 key, $2 token, $3 fence, $4 retention. A record already
		// released under the lock (a re-send) matches and keeps its
		// retention.
		release: r.Replace(`
UPDATE {T} SET
	deadline = CASE WHEN released THEN deadline ELSE c.now END,
	purge_at = CASE WHEN released THEN purge_at ELSE c.now + $4::interval END,
	released = true
FROM (SELECT clock_timestamp() AS now) c
WHERE key = $1 AND token = $2 AND fence = $3 AND result IS NULL`),

		// $1 key, $2 token, $3 fence, $4 lease. A record completed under the
		// lock (an Extend that crossed its owner's Complete) matches and
		// keeps its retention.
		extend: r.Replace(`
UPDATE {T} SET
	deadline = CASE WHEN result IS NULL THEN c.now + $4::interval ELSE deadline END,
	purge_at = CASE WHEN result IS NULL THEN c.now + 2 * $4::interval ELSE purge_at END
FROM (SELECT clock_timestamp() AS now) c
WHERE key = $1 AND token = $2 AND fence = $3 AND NOT released`),

		// $1 batch size. SKIP LOCKED lets sweepers on many replicas share
		// the work and never wait for a row an owner is completing.
		sweep: r.Replace(`
DELETE FROM {T} WHERE key IN (
	SELECT key FROM {T} WHERE purge_at <= clock_timestamp()
	ORDER BY purge_at LIMIT $1 FOR UPDATE SKIP LOCKED)`),
	}
}
