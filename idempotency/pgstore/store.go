package pgstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/magicmagnets/resilience/idempotency"
)

// DefaultTimeout bounds each statement when Config.Timeout is zero.
const DefaultTimeout = 2 * time.Second

// Config configures a [Store]. The zero value means the documented default,
// field by field.
type Config struct {
	// Table names the table, optionally schema-qualified ("app.idem").
	// Empty means DefaultTable. Create it with [Store.Migrate].
	Table string
	// MaxResultSize bounds each stored result, in bytes. Zero means
	// idempotency.DefaultMaxResultSize (1 MiB).
	MaxResultSize int
	// Timeout bounds each statement the store runs, from waiting for a
	// pooled connection to reading the reply. A Claim, Complete, Release or
	// Extend that fails with a timeout or a broken connection is sent once
	// more, on another connection, so one of them can take up to twice
	// Timeout. Zero means DefaultTimeout (2s).
	Timeout time.Duration
}

// Store is an [idempotency.Store] kept in a PostgreSQL table. It is safe for
// concurrent use, by any number of processes sharing the database, and starts
// no goroutine. Database errors are returned wrapped, prefixed "pgstore:".
type Store struct {
	pool          *pgxpool.Pool
	sql           statements
	maxResultSize int
	timeout       time.Duration
}

var _ idempotency.Store = (*Store)(nil)

// claimAttempts bounds how often Claim re-reads a record that changed under
// its statement's snapshot. Each retry sees every transaction committed
// before it started, so one retry nearly always settles it.
const claimAttempts = 10

// New returns a store that keeps its records in c.Table through pool. The
// pool is the caller's to close. New panics if pool is nil, c.MaxResultSize
// or c.Timeout is negative, or c.Table has an empty part.
func New(pool *pgxpool.Pool, c Config) *Store {
	if c.Table == "" {
		c.Table = DefaultTable
	}
	switch {
	case pool == nil:
		panic("pgstore: New: nil pool")
	case c.MaxResultSize < 0:
		panic(fmt.Sprintf("pgstore: New: negative MaxResultSize %d", c.MaxResultSize))
	case c.Timeout < 0:
		panic(fmt.Sprintf("pgstore: New: negative Timeout %v", c.Timeout))
	case strings.HasPrefix(c.Table, ".") || strings.HasSuffix(c.Table, ".") || strings.Contains(c.Table, "..") ||
		strings.Contains(c.Table, migrateTag):
		panic(fmt.Sprintf("pgstore: New: malformed table name %q", c.Table))
	}
	if c.MaxResultSize == 0 {
		c.MaxResultSize = idempotency.DefaultMaxResultSize
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	return &Store{pool: pool, sql: newStatements(c.Table), maxResultSize: c.MaxResultSize, timeout: c.Timeout}
}

// Claim implements [idempotency.Store.Claim] in one statement (one round
// trip, and rarely more when concurrent claims race on the key). A replay's
// Result is the store's own copy.
func (s *Store) Claim(ctx context.Context, key, fingerprint, token string, lease time.Duration) (idempotency.Claim, error) {
	if err := check(ctx, key, lease); err != nil {
		return idempotency.Claim{}, err
	}
	if err := idempotency.ValidateToken(token); err != nil {
		return idempotency.Claim{}, err
	}
	q := newClaimQuery(key, fingerprint, token, lease)
	for range claimAttempts {
		q.reply = claimReply{}
		err := s.retry(ctx, func(ctx context.Context) error {
			return s.pool.QueryRow(ctx, s.sql.claim, q.args[:]...).Scan(q.dest[:]...)
		})
		r := &q.reply
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			continue // a concurrent claim committed after our snapshot
		case err != nil:
			return idempotency.Claim{}, fmt.Errorf("pgstore: claim: %w", err)
		case r.acquired:
			return idempotency.Claim{Lock: idempotency.Lock{Token: token, Fence: r.fence}}, nil
		case r.released, r.mine && r.same:
			continue // our snapshot saw a version the statement would have taken
		case r.mine:
			return idempotency.Claim{}, idempotency.ErrMismatch // our own claim, another request
		case r.remaining <= 0:
			continue // our snapshot saw an expired version of a renewed record
		case !r.same:
			return idempotency.Claim{}, idempotency.ErrMismatch
		case r.completed:
			return idempotency.Claim{Replayed: true, Result: r.result}, nil
		}
		return idempotency.Claim{}, &idempotency.InProgressError{Remaining: fromMicros(r.remaining)}
	}
	return idempotency.Claim{}, fmt.Errorf("pgstore: claim: record kept changing during %d attempts", claimAttempts)
}

// Complete implements [idempotency.Store.Complete] in one statement. An
// oversized result is not sent.
func (s *Store) Complete(ctx context.Context, key string, lock idempotency.Lock, result []byte, retention time.Duration) error {
	if err := s.checkComplete(ctx, key, result, retention); err != nil {
		return err
	}
	return s.cas(ctx, s.pool, true, "complete", s.sql.complete, newCompleteQuery(key, lock.Token, lock.Fence, result, retention))
}

// CompleteTx is Complete inside the caller's transaction tx: the record
// becomes COMPLETED when tx commits, together with whatever else tx wrote,
// and stays IN_PROGRESS under lock if tx rolls back. Until tx ends, claims
// of the key wait for it. An oversized result returns
// idempotency.ErrResultTooLarge and sends nothing. The statement runs under
// Config.Timeout but is not sent again (a failed statement ends tx).
// CompleteTx does not commit or roll back tx.
func (s *Store) CompleteTx(ctx context.Context, tx pgx.Tx, key string, lock idempotency.Lock, result []byte, retention time.Duration) error {
	if tx == nil {
		return errors.New("pgstore: CompleteTx: nil transaction")
	}
	if err := s.checkComplete(ctx, key, result, retention); err != nil {
		return err
	}
	return s.cas(ctx, tx, false, "complete", s.sql.complete, newCompleteQuery(key, lock.Token, lock.Fence, result, retention))
}

func (s *Store) checkComplete(ctx context.Context, key string, result []byte, retention time.Duration) error {
	if err := check(ctx, key, retention); err != nil {
		return err
	}
	if len(result) > s.maxResultSize {
		return fmt.Errorf("%w: %d bytes, limit %d", idempotency.ErrResultTooLarge, len(result), s.maxResultSize)
	}
	return nil
}

// nonNil returns result, or an empty slice for nil: NULL is for "no result
// yet".
func nonNil(result []byte) []byte {
	if result == nil {
		return []byte{}
	}
	return result
}

// Release implements [idempotency.Store.Release] in one statement.
func (s *Store) Release(ctx context.Context, key string, lock idempotency.Lock, retention time.Duration) error {
	if err := check(ctx, key, retention); err != nil {
		return err
	}
	return s.cas(ctx, s.pool, true, "release", s.sql.release, newCasQuery(key, lock.Token, lock.Fence, retention))
}

// Extend implements [idempotency.Store.Extend] in one statement.
func (s *Store) Extend(ctx context.Context, key string, lock idempotency.Lock, lease time.Duration) error {
	if err := check(ctx, key, lease); err != nil {
		return err
	}
	return s.cas(ctx, s.pool, true, "extend", s.sql.extend, newCasQuery(key, lock.Token, lock.Fence, lease))
}

// execer runs a statement: the pool, or a caller's transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// cas runs a compare-and-set statement, sent again once on failure if
// resend: one row matched means done, none means the lock is lost.
func (s *Store) cas(ctx context.Context, db execer, resend bool, op, sql string, q *casQuery) error {
	run := func(ctx context.Context) error {
		tag, err := db.Exec(ctx, sql, q.args[:q.n]...)
		q.affected = tag.RowsAffected()
		return err
	}
	var err error
	if resend {
		err = s.retry(ctx, run)
	} else {
		err = s.bounded(ctx, run)
	}
	switch {
	case err != nil:
		return fmt.Errorf("pgstore: %s: %w", op, err)
	case q.affected == 0:
		return idempotency.ErrLockLost
	}
	return nil
}

// bounded runs one statement under the store's timeout.
func (s *Store) bounded(ctx context.Context, statement func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return statement(ctx)
}

// retry runs an idempotent statement under the store's timeout and, if it
// failed with a timeout or a broken connection while ctx is still live,
// once more. pgx closes a connection whose statement failed so (the
// protocol state is unknown), and the pool never hands it out again, so
// the second send goes over another connection.
func (s *Store) retry(ctx context.Context, statement func(context.Context) error) error {
	err := s.bounded(ctx, statement)
	if err == nil || ctx.Err() != nil || !linkFailure(err) {
		return err
	}
	return s.bounded(ctx, statement)
}

// linkFailure reports whether err says the statement's connection failed
// (a timeout, a broken or closed connection, a server shutting the
// session down) rather than the server refusing the statement.
func linkFailure(err error) bool {
	if errors.Is(err, pgx.ErrNoRows) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08: connection exception; 57P01–57P03: the server is
		// shutting down or cannot accept the session now.
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P")
	}
	return true
}

// check validates the arguments every method shares before the database is
// touched.
func check(ctx context.Context, key string, d time.Duration) error {
	if err := idempotency.ValidateKey(key); err != nil {
		return err
	}
	if err := idempotency.ValidateDuration(d); err != nil {
		return err
	}
	return ctx.Err()
}

// micros rounds d up to whole microseconds, PostgreSQL's time resolution,
// so a deadline is never earlier than asked; math.MaxInt64, which has no
// whole microsecond above it, is rounded down instead of wrapping.
func micros(d time.Duration) time.Duration {
	r := d / time.Microsecond * time.Microsecond
	if r != d && r <= math.MaxInt64-time.Microsecond {
		r += time.Microsecond
	}
	return r
}

// fromMicros converts us to a Duration, saturating at math.MaxInt64.
func fromMicros(us int64) time.Duration {
	if us > math.MaxInt64/int64(time.Microsecond) {
		return math.MaxInt64
	}
	return time.Duration(us) * time.Microsecond
}
