package redisstore

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/magicmagnets/resilience/idempotency"
)

// DefaultPrefix is the key prefix used when Config.Prefix is empty.
const DefaultPrefix = "idempotency:"

// DefaultTimeout bounds each call to Redis when Config.Timeout is zero.
const DefaultTimeout = 2 * time.Second

// Config configures a [Store]. The zero value means the documented default,
// field by field.
type Config struct {
	// Prefix is put before every idempotency key to make the Redis key, so
	// the records share a server with other data. Empty means DefaultPrefix.
	Prefix string
	// MaxResultSize bounds each stored result, in bytes. Zero means
	// idempotency.DefaultMaxResultSize (1 MiB).
	MaxResultSize int
	// Timeout bounds each call of a Store method to Redis (one script,
	// sent once, or twice when the server does not have it cached yet).
	// The client must have ContextTimeoutEnabled set for the bound to stop
	// a read or write that is waiting on the socket (see the package doc).
	// Zero means DefaultTimeout (2s).
	Timeout time.Duration
}

// Store is an [idempotency.Store] kept in Redis. It is safe for concurrent
// use, by any number of processes sharing the Redis server, and starts no
// goroutine. Errors from Redis (an unreachable server, a full one under
// noeviction, a call past Config.Timeout) are returned wrapped, prefixed
// "redisstore:".
type Store struct {
	client        redis.UniversalClient
	prefix        string
	maxResultSize int
	timeout       time.Duration
}

var _ idempotency.Store = (*Store)(nil)

// New returns a store that keeps its records through client. The client is
// the caller's to close; set ContextTimeoutEnabled in its options (see the
// package doc). New panics if client is nil or c.MaxResultSize or c.Timeout
// is negative.
func New(client redis.UniversalClient, c Config) *Store {
	switch {
	case client == nil:
		panic("redisstore: New: nil client")
	case c.MaxResultSize < 0:
		panic(fmt.Sprintf("redisstore: New: negative MaxResultSize %d", c.MaxResultSize))
	case c.Timeout < 0:
		panic(fmt.Sprintf("redisstore: New: negative Timeout %v", c.Timeout))
	}
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.MaxResultSize == 0 {
		c.MaxResultSize = idempotency.DefaultMaxResultSize
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	return &Store{client: client, prefix: c.Prefix, maxResultSize: c.MaxResultSize, timeout: c.Timeout}
}

// Claim implements [idempotency.Store.Claim] in one round trip (two the
// first time the server sees the script). A replay's Result is the store's
// own copy.
func (s *Store) Claim(ctx context.Context, key, fingerprint, token string, lease time.Duration) (idempotency.Claim, error) {
	if err := check(ctx, key, lease); err != nil {
		return idempotency.Claim{}, err
	}
	if err := idempotency.ValidateToken(token); err != nil {
		return idempotency.Claim{}, err
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	// The Redis key and the record a first claim writes share one string,
	// cut in two (a cluster client routes by the key, a string); the TTL is
	// sent through a pointer into the arguments' allocation.
	ms := millis(lease)
	var buf [256]byte
	b := append(append(buf[:0], s.prefix...), key...)
	b = append(append(append(b, "p1 "...), token...), ' ')
	b = append(strconv.AppendInt(b, int64(len(fingerprint)), 10), ' ')
	b = strconv.AppendInt(append(b, fingerprint...), ms, 10)
	both, n := string(b), len(s.prefix)+len(key)
	c := &claimArgs{record: both[n:], px: 2 * ms}
	c.args[4], c.args[5] = &c.record, &c.px
	reply, err := claimScript.run(ctx, s.client, both[:n], c.args[:]).Result()
	if err != nil {
		return idempotency.Claim{}, fmt.Errorf("redisstore: claim: %w", err)
	}
	return parseClaim(reply, fingerprint, token)
}

// claimArgs holds the claim script's EVALSHA arguments and what they
// point at.
type claimArgs struct {
	args   [6]any
	record string
	px     int64
}

// parseClaim turns the claim script's reply into Claim's results: an
// integer is the fence of an acquired lock, a string a completed record,
// replayed when its fingerprint is the claim's, an array the other
// outcomes. A reply of any other shape is an error.
func parseClaim(v any, fingerprint, token string) (idempotency.Claim, error) {
	switch v := v.(type) {
	case int64:
		if v > 0 {
			return idempotency.Claim{Lock: idempotency.Lock{Token: token, Fence: v}}, nil
		}
	case string:
		fp, result, ok := parseCompleted(v)
		switch {
		case !ok:
		case fp != fingerprint:
			return idempotency.Claim{}, idempotency.ErrMismatch
		default:
			return idempotency.Claim{Replayed: true, Result: []byte(result)}, nil
		}
	case []any:
		return parseClaimArray(v)
	}
	return idempotency.Claim{}, fmt.Errorf("redisstore: claim: unexpected reply %.200q", fmt.Sprint(v))
}

// parseClaimArray parses the claim script's replies that are arrays: in
// progress, or a mismatch.
func parseClaimArray(reply []any) (idempotency.Claim, error) {
	var tag string
	if len(reply) > 0 {
		tag, _ = reply[0].(string)
	}
	switch {
	case tag == "m" && len(reply) == 1:
		return idempotency.Claim{}, idempotency.ErrMismatch
	case len(reply) != 2:
	case tag == "p":
		if left, ok := reply[1].(int64); ok && left > 0 {
			return idempotency.Claim{}, &idempotency.InProgressError{Remaining: fromMillis(left)}
		}
	}
	return idempotency.Claim{}, fmt.Errorf("redisstore: claim: unexpected reply %.200q", fmt.Sprint(reply))
}

// Complete implements [idempotency.Store.Complete] in one round trip. An
// oversized result is not sent.
func (s *Store) Complete(ctx context.Context, key string, lock idempotency.Lock, result []byte, retention time.Duration) error {
	if err := check(ctx, key, retention); err != nil {
		return err
	}
	if len(result) > s.maxResultSize {
		return fmt.Errorf("%w: %d bytes, limit %d", idempotency.ErrResultTooLarge, len(result), s.maxResultSize)
	}
	return s.owned(ctx, "complete", completeScript, key, lock, result, millis(retention), false)
}

// Release implements [idempotency.Store.Release] in one round trip.
func (s *Store) Release(ctx context.Context, key string, lock idempotency.Lock, retention time.Duration) error {
	if err := check(ctx, key, retention); err != nil {
		return err
	}
	return s.owned(ctx, "release", releaseScript, key, lock, nil, millis(retention), false)
}

// Extend implements [idempotency.Store.Extend] in one round trip.
func (s *Store) Extend(ctx context.Context, key string, lock idempotency.Lock, lease time.Duration) error {
	if err := check(ctx, key, lease); err != nil {
		return err
	}
	return s.owned(ctx, "extend", extendScript, key, lock, nil, millis(lease), true)
}

// owned runs a compare-and-set script on key with the lock as the record
// holds it, then result unless it is nil (Complete's, a []byte, even an
// empty one, is not), then ms, then 2×ms when px is set.
func (s *Store) owned(ctx context.Context, op string, script script, key string, lock idempotency.Lock, result any, ms int64, px bool) error {
	// A token no Claim accepts owns nothing. It must not reach the script:
	// one with a space would make a lock string that matches more of the
	// record than "<fence> <token> " (its fingerprint length and
	// fingerprint), so that another owner's record would pass the compare.
	if idempotency.ValidateToken(lock.Token) != nil {
		return idempotency.ErrLockLost
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	// The Redis key and the lock share one string, cut in two.
	var buf [192]byte
	b := append(append(buf[:0], s.prefix...), key...)
	b = append(append(append(strconv.AppendInt(b, lock.Fence, 10), ' '), lock.Token...), ' ')
	both, n := string(b), len(s.prefix)+len(key)
	o := &ownedArgs{lock: both[n:], ms: ms, px: 2 * ms}
	args := append(o.args[:4], &o.lock)
	if result != nil {
		args = append(args, result)
	}
	args = append(args, &o.ms)
	if px {
		args = append(args, &o.px)
	}
	reply, err := script.run(ctx, s.client, both[:n], args).Result()
	return parseOwned(op, reply, err)
}

// ownedArgs holds a compare-and-set script's EVALSHA arguments and what
// they point at.
type ownedArgs struct {
	args   [8]any
	lock   string
	ms, px int64
}

// bound returns ctx bounded by the store's Timeout: ctx itself when its
// own deadline comes no later (a context of the store's would end at the
// same time), which saves the timer and the allocations of a new context.
// The CancelFunc is for a defer in either case.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= s.timeout {
		return ctx, noCancel
	}
	return context.WithTimeout(ctx, s.timeout)
}

func noCancel() {}

// parseCompleted cuts a completed record as the claim script returns it,
// "c<fence> <token> <n> <fingerprint><result>", into its fingerprint and
// result; ok is false when rec is not one.
func parseCompleted(rec string) (fingerprint, result string, ok bool) {
	if len(rec) < 2 || rec[0] != 'c' {
		return "", "", false
	}
	rest := rec[1:]
	for range 2 { // the fence and the token, each ended by a space
		i := strings.IndexByte(rest, ' ')
		if i < 1 {
			return "", "", false
		}
		rest = rest[i+1:]
	}
	i := strings.IndexByte(rest, ' ')
	if i < 1 {
		return "", "", false
	}
	n, err := strconv.ParseUint(rest[:i], 10, 31)
	if err != nil || n > uint64(len(rest)-i-1) {
		return "", "", false
	}
	rest = rest[i+1:]
	return rest[:n], rest[n:], true
}

// parseOwned interprets the reply of a compare-and-set script: 1 done, 0
// lock lost. A reply of any other shape is an error.
func parseOwned(op string, reply any, err error) error {
	if err != nil {
		return fmt.Errorf("redisstore: %s: %w", op, err)
	}
	switch reply {
	case int64(1):
		return nil
	case int64(0):
		return idempotency.ErrLockLost
	}
	return fmt.Errorf("redisstore: %s: unexpected reply %.200q", op, fmt.Sprint(reply))
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
// deadline is never earlier than asked (and math.MaxInt64 does not wrap).
func millis(d time.Duration) int64 {
	ms := int64(d / time.Millisecond)
	if d%time.Millisecond != 0 {
		ms++
	}
	return ms
}

// fromMillis converts ms to a Duration, saturating at math.MaxInt64.
func fromMillis(ms int64) time.Duration {
	if ms > math.MaxInt64/int64(time.Millisecond) {
		return math.MaxInt64
	}
	return time.Duration(ms) * time.Millisecond
}
