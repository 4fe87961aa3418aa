// Package pgstore is an [idempotency.Store] kept in one PostgreSQL table, for
// services with many replicas that share a database.
//
// Create the table once with [Migrate] (or [Store.Migrate] for a table named
// in Config); it is safe to run on every start, from every replica at once,
// and it upgrades a table of an earlier release in place (see Upgrading).
//
// Each method is one statement, run in its own short transaction: Claim is
// a single INSERT … ON CONFLICT DO UPDATE … WHERE <free> that also returns
// the existing record when it did not take the key, so a new key costs two
// round trips (claim, complete) and a replay one. Complete, Release and Extend
// are compare-and-set updates on the owner's token and fence. Every deadline
// is computed by the server from clock_timestamp(), so replicas whose clocks
// disagree still agree on it; deadlines have a resolution of a microsecond.
// Keys and fingerprints are stored as bytea, so any bytes, NUL included, are
// kept exactly; owner tokens are stored as text.
//
// Every statement is idempotent by owner token: sent twice, the second gets
// the answer the first would have had (a re-sent Claim acquires its own
// record again, a re-sent Complete or Release finds the row completed or
// released under its lock and succeeds). A released row keeps its token and
// fence until its retention ends, so that the next claim's fence is higher.
//
// # Timeouts, re-sends and pool sizing
//
// Neither pgx nor PostgreSQL puts a time limit on a statement, so every
// statement the store runs has its own, Config.Timeout (2s unless set),
// which covers waiting for a pooled connection as well as the round trip.
// pgx closes a connection whose statement timed out or broke, and the store
// then sends the statement once more on another connection; so a Claim,
// Complete, Release or Extend takes at most twice Timeout (the first send
// may have been applied: the second finds its result). [Store.CompleteTx]
// runs in the caller's transaction and is not sent again.
//
// A statement on a link that went silent holds its pooled connection until
// its timeout. pgxpool's default pool is small, the greater of 4 and
// runtime.NumCPU() connections (pool_max_conns in the URL sets it), so a few
// hung statements can leave every other request waiting for a connection:
// size the pool for the requests that may be in flight during one Timeout,
// not for the average load, and keep Timeout short next to the lease. On
// loopback, with every pooled connection gone silent and Timeout 500ms, 16
// concurrent claims each took one Timeout (520–590ms) and then succeeded on
// new connections, with a pool of 4 as with a pool of 16: the waits for a
// connection end with the hung statements, so Timeout, not the pool's size,
// bounds how long a silent link holds requests. A new
// connection's handshake is bounded by the URL's connect_timeout and by
// nothing else (pgxpool finishes a connection in the background even after
// the request that wanted it gave up): set connect_timeout to a few seconds,
// or a silent link holds a pool slot until the operating system gives up
// on the socket.
//
// # Completing inside the caller's transaction
//
// [Store.CompleteTx] records the result in the caller's own pgx.Tx, next to
// the business write it stands for: if the transaction commits, both the
// write and the record are kept; if it rolls back, neither is, and the key
// stays in progress under its owner, who releases it (or lets the lease pass)
// so that a retry runs the operation again. No retry can then see the write
// without its record, or the record without its write.
//
// # Expired rows
//
// Nothing expires on its own in PostgreSQL: an expired record counts as
// absent for Claim, but its row stays until it is taken over or swept.
// [Store.Sweep] deletes a batch of rows whose time has passed (completed and
// released rows past retention; in-progress rows a lease after their lease
// ended, which keeps a late owner's Complete and the next fence working).
// Call it from a scheduled job, or run [Store.RunSweeper] in a goroutine of
// your own.
//
// # Upgrading
//
// Tables made by releases before released rows existed gain the released
// column when Migrate runs (a constant default: no table rewrite), and
// their rows are read as they were written: a completed row without a token
// replays, an in-progress row stays its owner's. Do not run replicas of the
// earlier release against the table once the new one writes to it: an
// earlier replica reads a completed row, which now keeps its token, as in
// progress, and answers "in progress" for it until its retention ends
// instead of replaying it.
package pgstore
