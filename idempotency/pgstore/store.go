package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/magicmagnets/resilience/idempotency"
)

// Config configures a [Store]. The zero value means the documented default,
// field by field.
type Config struct {
	// Table names the table, optionally schema-qualified ("app.idem").
	// Empty means DefaultTable. Create it with [Store.Migrate].
	Table string
	// MaxResultSize bounds each stored result, in bytes. Zero means
	// idempotency.DefaultMaxResultSize (1 MiB).
	MaxResultSize int
}

// Store is an [idempotency.Store] kept in a PostgreSQL table. It is safe for
// concurrent use, by any number of processes sharing the database, and starts
// no goroutine. Database errors are returned wrapped, prefixed "pgstore:".
type Store struct {
	pool          *pgxpool.Pool
	sql           statements
	maxResultSize int
}

var _ idempotency.Store = (*Store)(nil)

// claimAttempts bounds how often Claim re-reads a record that changed under
// its statement's snapshot. Each retry sees every transaction committed
// before it started, so one retry nearly always settles it.
const claimAttempts = 10

// New returns a store that keeps its records in c.Table through pool. The
// pool is the caller's to close. New panics if pool is nil, c.MaxResultSize
// is negative or c.Table has an empty part.
func New(pool *pgxpool.Pool, c Config) *Store {
	if c.Table == "" {
		c.Table = DefaultTable
	}
	switch {
	case pool == nil:
		panic("pgstore: New: nil pool")
	case c.MaxResultSize < 0:
		panic(fmt.Sprintf("pgstore: New: negative MaxResultSize %d", c.MaxResultSize))
	case strings.HasPrefix(c.Table, ".") || strings.HasSuffix(c.Table, ".") || strings.Contains(c.Table, ".."):
		panic(fmt.Sprintf("pgstore: New: malformed table name %q", c.Table))
	}
	if c.MaxResultSize == 0 {
		c.MaxResultSize = idempotency.DefaultMaxResultSize
	}
	return &Store{pool: pool, sql: newStatements(c.Table), maxResultSize: c.MaxResultSize}
}

// Claim implements [idempotency.Store.Claim] in one statement (one round
// trip, and rarely more when concurrent claims race on the key). A replay's
// Result is the store's own copy.
func (s *Store) Claim(ctx context.Context, key, fingerprint string, lease time.Duration) (idempotency.Claim, error) {
	if err := check(ctx, key, lease); err != nil {
		return idempotency.Claim{}, err
	}
	token := newToken()
	for range claimAttempts {
		var (
			acquired, same, completed bool
			fence, remaining          int64
			result                    []byte
		)
		err := s.pool.QueryRow(ctx, s.sql.claim, []byte(key), []byte(fingerprint), token, micros(lease)).
			Scan(&acquired, &fence, &same, &completed, &result, &remaining)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			continue // a concurrent claim committed after our snapshot
		case err != nil:
			return idempotency.Claim{}, fmt.Errorf("pgstore: claim: %w", err)
		case acquired:
			return idempotency.Claim{Lock: idempotency.Lock{Token: token, Fence: fence}}, nil
		case remaining <= 0:
			continue // our snapshot saw an expired version of a renewed record
		case !same:
			return idempotency.Claim{}, idempotency.ErrMismatch
		case completed:
			return idempotency.Claim{Replayed: true, Result: result}, nil
		}
		return idempotency.Claim{}, &idempotency.InProgressError{Remaining: time.Duration(remaining) * time.Microsecond}
	}
	return idempotency.Claim{}, fmt.Errorf("pgstore: claim: record kept changing during %d attempts", claimAttempts)
}

// Complete implements [idempotency.Store.Complete] in one statement. An
// oversized result is not sent: the key is released instead.
func (s *Store) Complete(ctx context.Context, key string, lock idempotency.Lock, result []byte, retention time.Duration) error {
	return s.complete(ctx, s.pool, key, lock, result, retention)
}

// CompleteTx is Complete inside the caller's transaction tx: the record
// becomes COMPLETED when tx commits, together with whatever else tx wrote,
// and stays IN_PROGRESS under lock if tx rolls back. Until tx ends, claims
// of the key wait for it. An oversized result releases the key, also within
// tx. CompleteTx does not commit or roll back tx.
func (s *Store) CompleteTx(ctx context.Context, tx pgx.Tx, key string, lock idempotency.Lock, result []byte, retention time.Duration) error {
	if tx == nil {
		return errors.New("pgstore: CompleteTx: nil transaction")
	}
	return s.complete(ctx, tx, key, lock, result, retention)
}

// execer runs a statement: the pool, or a caller's transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func (s *Store) complete(ctx context.Context, db execer, key string, lock idempotency.Lock, result []byte, retention time.Duration) error {
	if err := check(ctx, key, retention); err != nil {
		return err
	}
	if len(result) > s.maxResultSize {
		if err := s.cas(ctx, db, "release", s.sql.release, []byte(key), lock.Token, lock.Fence); err != nil {
			return err
		}
		return fmt.Errorf("%w: %d bytes, limit %d", idempotency.ErrResultTooLarge, len(result), s.maxResultSize)
	}
	if result == nil {
		result = []byte{} // NULL is for "no result yet"
	}
	return s.cas(ctx, db, "complete", s.sql.complete, []byte(key), lock.Token, lock.Fence, result, micros(retention))
}

// Release implements [idempotency.Store.Release] in one statement.
func (s *Store) Release(ctx context.Context, key string, lock idempotency.Lock) error {
	if err := check(ctx, key, time.Microsecond); err != nil {
		return err
	}
	return s.cas(ctx, s.pool, "release", s.sql.release, []byte(key), lock.Token, lock.Fence)
}

// Extend implements [idempotency.Store.Extend] in one statement.
func (s *Store) Extend(ctx context.Context, key string, lock idempotency.Lock, lease time.Duration) error {
	if err := check(ctx, key, lease); err != nil {
		return err
	}
	return s.cas(ctx, s.pool, "extend", s.sql.extend, []byte(key), lock.Token, lock.Fence, micros(lease))
}

// cas runs a compare-and-set statement: one row changed means done, none
// means the lock is lost.
func (s *Store) cas(ctx context.Context, db execer, op, sql string, args ...any) error {
	tag, err := db.Exec(ctx, sql, args...)
	switch {
	case err != nil:
		return fmt.Errorf("pgstore: %s: %w", op, err)
	case tag.RowsAffected() == 0:
		return idempotency.ErrLockLost
	}
	return nil
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
// so a deadline is never earlier than asked.
func micros(d time.Duration) time.Duration {
	return (d + time.Microsecond - 1) / time.Microsecond * time.Microsecond
}

// newToken returns 128 random bits in hex.
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b[:])
}
