package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/magicmagnets/resilience/idempotency"
)

// DefaultPrefix is the key prefix used when Config.Prefix is empty.
const DefaultPrefix = "idempotency:"

// Config configures a [Store]. The zero value means the documented default,
// field by field.
type Config struct {
	// Prefix is put before every idempotency key to make the Redis key, so
	// the records share a server with other data. Empty means DefaultPrefix.
	Prefix string
	// MaxResultSize bounds each stored result, in bytes. Zero means
	// idempotency.DefaultMaxResultSize (1 MiB).
	MaxResultSize int
}

// Store is an [idempotency.Store] kept in Redis. It is safe for concurrent
// use, by any number of processes sharing the Redis server, and starts no
// goroutine. Errors from Redis (an unreachable server, a full one under
// noeviction) are returned wrapped, prefixed "redisstore:".
type Store struct {
	client        redis.UniversalClient
	prefix        string
	maxResultSize int
}

var _ idempotency.Store = (*Store)(nil)

// New returns a store that keeps its records through client. The client is
// the caller's to close. New panics if client is nil or c.MaxResultSize is
// negative.
func New(client redis.UniversalClient, c Config) *Store {
	switch {
	case client == nil:
		panic("redisstore: New: nil client")
	case c.MaxResultSize < 0:
		panic(fmt.Sprintf("redisstore: New: negative MaxResultSize %d", c.MaxResultSize))
	}
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.MaxResultSize == 0 {
		c.MaxResultSize = idempotency.DefaultMaxResultSize
	}
	return &Store{client: client, prefix: c.Prefix, maxResultSize: c.MaxResultSize}
}

// Claim implements [idempotency.Store.Claim] in one round trip (two the
// first time the server sees the script). A replay's Result is the store's
// own copy.
func (s *Store) Claim(ctx context.Context, key, fingerprint string, lease time.Duration) (idempotency.Claim, error) {
	if err := check(ctx, key, lease); err != nil {
		return idempotency.Claim{}, err
	}
	token := newToken()
	reply, err := claimScript.Run(ctx, s.client, []string{s.prefix + key}, fingerprint, token, millis(lease)).Slice()
	if err != nil {
		return idempotency.Claim{}, fmt.Errorf("redisstore: claim: %w", err)
	}
	return parseClaim(reply, token)
}

// parseClaim turns the claim script's reply into Claim's results.
func parseClaim(reply []any, token string) (idempotency.Claim, error) {
	tag, _ := reply[0].(string)
	switch {
	case tag == "m":
		return idempotency.Claim{}, idempotency.ErrMismatch
	case len(reply) < 2:
	case tag == "a":
		fence, ok := reply[1].(int64)
		if ok {
			return idempotency.Claim{Lock: idempotency.Lock{Token: token, Fence: fence}}, nil
		}
	case tag == "r":
		result, ok := reply[1].(string)
		if ok {
			return idempotency.Claim{Replayed: true, Result: []byte(result)}, nil
		}
	case tag == "p":
		left, ok := reply[1].(int64)
		if ok {
			return idempotency.Claim{}, &idempotency.InProgressError{Remaining: time.Duration(left) * time.Millisecond}
		}
	}
	return idempotency.Claim{}, fmt.Errorf("redisstore: claim: unexpected reply %v", reply)
}

// Complete implements [idempotency.Store.Complete] in one round trip. An
// oversized result is not sent: the key is released instead.
func (s *Store) Complete(ctx context.Context, key string, lock idempotency.Lock, result []byte, retention time.Duration) error {
	if err := check(ctx, key, retention); err != nil {
		return err
	}
	if len(result) > s.maxResultSize {
		if err := s.release(ctx, key, lock); err != nil {
			return err
		}
		return fmt.Errorf("%w: %d bytes, limit %d", idempotency.ErrResultTooLarge, len(result), s.maxResultSize)
	}
	return s.owned(completeScript.Run(ctx, s.client, []string{s.prefix + key},
		lock.Token, strconv.FormatInt(lock.Fence, 10), result, millis(retention)), "complete")
}

// Release implements [idempotency.Store.Release] in one round trip.
func (s *Store) Release(ctx context.Context, key string, lock idempotency.Lock) error {
	if err := check(ctx, key, time.Millisecond); err != nil {
		return err
	}
	return s.release(ctx, key, lock)
}

func (s *Store) release(ctx context.Context, key string, lock idempotency.Lock) error {
	return s.owned(releaseScript.Run(ctx, s.client, []string{s.prefix + key},
		lock.Token, strconv.FormatInt(lock.Fence, 10)), "release")
}

// Extend implements [idempotency.Store.Extend] in one round trip.
func (s *Store) Extend(ctx context.Context, key string, lock idempotency.Lock, lease time.Duration) error {
	if err := check(ctx, key, lease); err != nil {
		return err
	}
	return s.owned(extendScript.Run(ctx, s.client, []string{s.prefix + key},
		lock.Token, strconv.FormatInt(lock.Fence, 10), millis(lease)), "extend")
}

// owned interprets the reply of a compare-and-set script: 1 done, 0 lock
// lost.
func (s *Store) owned(cmd *redis.Cmd, op string) error {
	n, err := cmd.Int64()
	switch {
	case err != nil:
		return fmt.Errorf("redisstore: %s: %w", op, err)
	case n == 0:
		return idempotency.ErrLockLost
	}
	return nil
}

// check validates the arguments every method shares before Redis is touched.
func check(ctx context.Context, key string, d time.Duration) error {
	if err := idempotency.ValidateKey(key); err != nil {
		return err
	}
	if err := idempotency.ValidateDuration(d); err != nil {
		return err
	}
	return ctx.Err()
}

// millis rounds d up to whole milliseconds, Redis's TTL resolution, so a
// deadline is never earlier than asked.
func millis(d time.Duration) int64 {
	return int64((d + time.Millisecond - 1) / time.Millisecond)
}

// newToken returns 128 random bits in hex.
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b[:])
}
