// Package pgstore is an [idempotency.Store] kept in one PostgreSQL table, for
// services with many replicas that share a database.
//
// Create the table once with [Migrate] (or [Store.Migrate] for a table named
// in Config); it is safe to run on every start, from every replica at once.
//
// Each method is one statement, run in its own short transaction: Claim is
// a single INSERT … ON CONFLICT DO UPDATE … WHERE <expired> that also returns
// the existing record when it did not take the key, so a new key costs two
// round trips (claim, complete) and a replay one. Complete, Release and Extend
// are compare-and-set updates on the owner's token and fence. Every deadline
// is computed by the server from clock_timestamp(), so replicas whose clocks
// disagree still agree on it; deadlines have a resolution of a microsecond.
// Keys and fingerprints are stored as bytea, so any bytes, NUL included, are
// kept exactly.
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
// [Store.Sweep] deletes a batch of rows whose time has passed (completed rows
// past retention; in-progress rows a lease after their lease ended, which
// keeps a late owner's Complete and the next fence working). Call it from a
// scheduled job, or run [Store.RunSweeper] in a goroutine of your own.
package pgstore
