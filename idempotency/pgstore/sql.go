package pgstore

import (
	"strings"

	"github.com/jackc/pgx/v5"
)

// DefaultTable is the table used when Config.Table is empty.
const DefaultTable = "idempotency_keys"

// statements holds the SQL of one table.
type statements struct {
	migrate, claim, complete, release, extend, sweep string
}

// A row is one key's record:
//
//	key          the idempotency key (bytea, 1–255 bytes)
//	fingerprint  the request's fingerprint (bytea)
//	token        the owner's token while in progress; NULL once completed
//	fence        the fencing counter
//	result       the result once completed
//	deadline     the lease's end while in progress, the retention's once completed
//	purge_at     when Sweep may delete the row: a lease after the lease's end
//	             while in progress, the retention's end once completed
func newStatements(table string) statements {
	parts := strings.Split(table, ".")
	name := pgx.Identifier(parts).Sanitize()
	index := pgx.Identifier{parts[len(parts)-1] + "_purge_at_idx"}.Sanitize()
	r := strings.NewReplacer("{T}", name, "{I}", index)
	return statements{
		// One simple-protocol message, so one implicit transaction. The
		// advisory lock serialises migrations from replicas starting
		// together, whose CREATE … IF NOT EXISTS could otherwise collide in
		// the catalog.
		migrate: r.Replace(`
SELECT pg_advisory_xact_lock(7021964310529181);
CREATE TABLE IF NOT EXISTS {T} (
	key         bytea       PRIMARY KEY CHECK (octet_length(key) BETWEEN 1 AND 255),
	fingerprint bytea       NOT NULL,
	token       text,
	fence       bigint      NOT NULL,
	result      bytea,
	deadline    timestamptz NOT NULL,
	purge_at    timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS {I} ON {T} (purge_at);`),

		// $1 key, $2 fingerprint, $3 token, $4 lease. One clock reading (c)
		// serves the whole statement. The INSERT takes the key when it is
		// absent or its deadline has passed; otherwise the SELECT returns the
		// record as the statement's snapshot saw it. Under contention that
		// snapshot can miss a row committed after it was taken (no row) or
		// show an older version (an expired one): the caller then asks again.
		claim: r.Replace(`
WITH c AS (SELECT clock_timestamp() AS now),
ins AS (
	INSERT INTO {T} AS r (key, fingerprint, token, fence, deadline, purge_at)
	SELECT $1, $2, $3, 1, c.now + $4::interval, c.now + 2 * $4::interval FROM c
	ON CONFLICT (key) DO UPDATE SET
		fingerprint = excluded.fingerprint, token = excluded.token, fence = r.fence + 1,
		result = NULL, deadline = excluded.deadline, purge_at = excluded.purge_at
	WHERE r.deadline <= excluded.deadline - $4::interval
	RETURNING r.fence
)
SELECT true, fence, true, false, NULL::bytea, 0::bigint FROM ins
UNION ALL
SELECT false, r.fence, r.fingerprint = $2, r.token IS NULL,
	CASE WHEN r.token IS NULL AND r.fingerprint = $2 THEN r.result END,
	(extract(epoch FROM r.deadline - c.now) * 1000000)::bigint
FROM {T} r, c
WHERE r.key = $1 AND NOT EXISTS (SELECT FROM ins)`),

		// $1 key, $2 token, $3 fence, $4 result, $5 retention.
		complete: r.Replace(`
UPDATE {T} SET token = NULL, result = $4, deadline = c.now + $5::interval, purge_at = c.now + $5::interval
FROM (SELECT clock_timestamp() AS now) c
WHERE key = $1 AND token = $2 AND fence = $3`),

		// $1 key, $2 token, $3 fence.
		release: r.Replace(`DELETE FROM {T} WHERE key = $1 AND token = $2 AND fence = $3`),

		// $1 key, $2 token, $3 fence, $4 lease.
		extend: r.Replace(`
UPDATE {T} SET deadline = c.now + $4::interval, purge_at = c.now + 2 * $4::interval
FROM (SELECT clock_timestamp() AS now) c
WHERE key = $1 AND token = $2 AND fence = $3`),

		// $1 batch size. SKIP LOCKED lets sweepers on many replicas share
		// the work and never wait for a row an owner is completing.
		sweep: r.Replace(`
DELETE FROM {T} WHERE key IN (
	SELECT key FROM {T} WHERE purge_at <= clock_timestamp()
	ORDER BY purge_at LIMIT $1 FOR UPDATE SKIP LOCKED)`),
	}
}
