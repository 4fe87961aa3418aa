package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/ratelimit"
)

// DefaultPrefix is the key prefix used when Config.Prefix is empty.
const DefaultPrefix = "ratelimit:"

// DefaultTimeout bounds each decision when Config.Timeout is zero.
const DefaultTimeout = 50 * time.Millisecond

// ErrUnavailable is matched by the error of a Take that Redis could not
// decide (unreachable, too slow, refusing writes) under Config.FailClosed.
// The error wraps the cause when the Take asked Redis itself.
var ErrUnavailable = errors.New("redisstore: Redis unavailable")

// Config configures a [Store]. The zero value means the documented default,
// field by field.
type Config struct {
	// Prefix is put before every limit's key to make the Redis key, so the
	// limits share a server with other data. Zero means DefaultPrefix.
	Prefix string

	// Replicas is how many processes share each limit. It is used only
	// while Redis is failing and the store decides locally: each process
	// then admits Rate/Replicas with a burst of Burst/Replicas (at least
	// one), so that the fleet as a whole stays near the limit. Zero means 1.
	Replicas int

	// FailClosed makes a Take that Redis cannot decide return an error
	// matching ErrUnavailable, which a limiter turns into a refusal. Zero
	// (false) means deciding locally at Rate/Replicas instead.
	FailClosed bool

	// Timeout bounds each decision: the script's round trip, with go-redis's
	// own re-sends, after which Redis counts as failing. A limiter sits in
	// front of every call it guards, so it must not add more than a few
	// milliseconds to any of them: a healthy Redis on the same network
	// answers in well under a millisecond, and the bound is for the
	// Redis that hangs. Zero means DefaultTimeout (50ms). The client must
	// have ContextTimeoutEnabled set for the bound to stop a read waiting
	// on the socket (see the package doc).
	Timeout time.Duration

	// Name is copied into every Event the store emits. Zero means no name.
	Name string

	// Observer receives the store's events: KindStateChange when it starts
	// deciding without Redis and when Redis answers again (see the package
	// doc). Zero means no events.
	Observer resilience.Observer
}

// Validate reports what [New] would panic on: a negative Replicas or
// Timeout. It returns nil for a configuration New accepts. The error's
// message starts with "redisstore: ".
func (c Config) Validate() error {
	switch {
	case c.Replicas < 0:
		return fmt.Errorf("redisstore: negative Replicas %d", c.Replicas)
	case c.Timeout < 0:
		return fmt.Errorf("redisstore: negative Timeout %v", c.Timeout)
	}
	return nil
}

// Store is a [ratelimit.Store] kept in Redis: every process whose store
// points at the same Redis and prefix shares each limit. It is safe for
// concurrent use and starts no goroutine.
type Store struct {
	client     redis.UniversalClient
	prefix     string
	replicas   int
	failClosed bool
	timeout    time.Duration
	keepMillis any                        // int64: the shortest TTL a key is given, how long a re-send is recognised; boxed once
	last       atomic.Pointer[boxedLimit] // the limit of the latest Take, its arguments boxed
	em         emitter
	local      *ratelimit.MemoryStore // decides while Redis fails; nil under FailClosed

	idPrefix string        // random per Store: the request ids of two stores never meet
	seq      atomic.Uint64 // the last request id's counter

	epoch    time.Time    // the origin of retryAt, on the monotonic clock
	degraded atomic.Bool  // Redis failed and has not answered since
	retryAt  atomic.Int64 // while degraded, when Redis may be asked again, since epoch
	probing  atomic.Bool  // a Take, while degraded, is asking Redis
}

// retryEvery is how often, while Redis fails, one Take asks it again; the
// others decide at once without it.
const retryEvery = 100 * time.Millisecond

var _ ratelimit.Store = (*Store)(nil)

// New returns a store that keeps its limits through client. The client is
// the caller's to close; set ContextTimeoutEnabled in its options (see the
// package doc). New panics if client is nil or c is invalid (see
// [Config.Validate]).
func New(client redis.UniversalClient, c Config) *Store {
	if client == nil {
		panic("redisstore: New: nil client")
	}
	if err := c.Validate(); err != nil {
		panic(err.Error())
	}
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	s := &Store{
		client:     client,
		prefix:     c.Prefix,
		replicas:   c.Replicas,
		failClosed: c.FailClosed,
		timeout:    c.Timeout,
		keepMillis: 2 * millis(c.Timeout),
		em:         emitter{Policy: "ratelimit", Name: c.Name, Observer: c.Observer},
		// 64 random bits in 11 characters, none of them the script's
		// separators (space and '|'): every record carries its id, and
		// the script's cost grows with the bytes of the string it rewrites.
		idPrefix: base64.RawURLEncoding.EncodeToString(b[:]) + ".",
		epoch:    time.Now(),
	}
	if !c.FailClosed {
		s.local = ratelimit.NewMemoryStore(0)
	}
	return s
}

// The states a store reports in its KindStateChange events.
const (
	stateShared  = "shared"  // Redis decides
	stateLocal   = "local"   // Redis fails; this process decides at Rate/Replicas
	stateRefused = "refused" // Redis fails; under FailClosed every Take is an error
)

// Take implements [ratelimit.Store.Take]: it decides in Redis by GCRA, on
// Redis's clock, in one round trip (two the first time the server sees the
// script). When Redis fails it decides as the package doc describes; when
// ctx ends first it returns ctx's error and changes nothing here.
func (s *Store) Take(ctx context.Context, key string, l ratelimit.Limit, n int) (ratelimit.Decision, error) {
	if err := check(key, l, n); err != nil {
		return ratelimit.Decision{}, err
	}
	if err := ctx.Err(); err != nil {
		return ratelimit.Decision{}, err
	}
	l = norm(l)
	probe := s.degraded.Load()
	if probe {
		// Redis failed lately: one Take every retryEvery asks it again,
		// the others decide at once without it.
		if time.Since(s.epoch) < time.Duration(s.retryAt.Load()) || !s.probing.CompareAndSwap(false, true) {
			return s.degrade(ctx, key, l, n, nil)
		}
		defer s.probing.Store(false)
	}
	d, err := s.shared(ctx, key, l, n)
	switch {
	case err == nil || errors.Is(err, errGarbage):
		// Redis answered.
		if probe && s.degraded.CompareAndSwap(true, false) {
			s.em.Emit(resilience.Event{Kind: resilience.KindStateChange, From: s.fallbackState(), To: stateShared})
		}
		return d, err
	case ctx.Err() != nil:
		// The caller's own end, not Redis's failure.
		return ratelimit.Decision{}, fmt.Errorf("redisstore: take: %w", ctx.Err())
	}
	s.retryAt.Store(int64(time.Since(s.epoch) + retryEvery))
	if s.degraded.CompareAndSwap(false, true) {
		s.em.Emit(resilience.Event{Kind: resilience.KindStateChange, From: stateShared, To: s.fallbackState(), Err: err})
	}
	return s.degrade(ctx, key, l, n, err)
}

// fallbackState is the state a failing Redis leaves the store in.
func (s *Store) fallbackState() string {
	if s.failClosed {
		return stateRefused
	}
	return stateLocal
}

// shared runs the script for a Take of n tokens of the normalised limit l,
// under a new request id.
func (s *Store) shared(ctx context.Context, key string, l ratelimit.Limit, n int) (ratelimit.Decision, error) {
	return s.run(ctx, "", key, l, n)
}

// run runs the script for a Take of n tokens of the normalised limit l
// under the request id (a new one when id is empty), within the store's
// timeout.
func (s *Store) run(ctx context.Context, id, key string, l ratelimit.Limit, n int) (ratelimit.Decision, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	la := s.limitArgs(l)
	// The Redis key and the request id share one string, cut in two.
	var buf [128]byte
	b := append(append(buf[:0], s.prefix...), key...)
	if id == "" {
		b = strconv.AppendUint(append(b, s.idPrefix...), s.seq.Add(1), 36)
	} else {
		b = append(b, id...)
	}
	both := string(b)
	args := &takeArgs{
		evalsha, takeSHA, 1, both[:len(s.prefix)+len(key)],
		both[len(s.prefix)+len(key):], la.t, la.burst, n, s.keepMillis,
	}
	return parseTake(runScript(ctx, s.client, args[:]), l)
}

// limitArgs returns the script's arguments for the normalised limit l,
// boxed once for as long as the store's Takes keep to one limit.
func (s *Store) limitArgs(l ratelimit.Limit) *boxedLimit {
	if la := s.last.Load(); la != nil && la.l == l {
		return la
	}
	la := &boxedLimit{l: l, t: strconv.FormatFloat(interval(l), 'g', -1, 64), burst: l.Burst}
	s.last.Store(la)
	return la
}

// boxedLimit holds the script's arguments that depend on the limit only,
// already boxed.
type boxedLimit struct {
	l        ratelimit.Limit
	t, burst any
}

// degrade decides a Take while Redis fails: locally at Rate/Replicas, or,
// under FailClosed, not at all.
func (s *Store) degrade(ctx context.Context, key string, l ratelimit.Limit, n int, cause error) (ratelimit.Decision, error) {
	if s.failClosed {
		if cause == nil {
			return ratelimit.Decision{}, ErrUnavailable
		}
		return ratelimit.Decision{}, fmt.Errorf("%w: %w", ErrUnavailable, cause)
	}
	return s.local.Take(ctx, key, localLimit(l, s.replicas, n), n)
}

// localLimit is this process's share of the normalised limit l, for a Take
// of n tokens: Rate/replicas, and Burst/replicas but at least one, and at
// least n, so that a Take the shared limit would allow can pass locally
// too, from a full bucket.
func localLimit(l ratelimit.Limit, replicas, n int) ratelimit.Limit {
	l.Rate /= float64(replicas)
	l.Burst = max(1, l.Burst/replicas, n)
	return l
}

// check reports the error the Store contract gives for a Take no store can
// decide, before Redis is touched.
func check(key string, l ratelimit.Limit, n int) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty", ratelimit.ErrInvalidKey)
	case len(key) > ratelimit.MaxKeyLen:
		return fmt.Errorf("%w: %d bytes, longer than %d", ratelimit.ErrInvalidKey, len(key), ratelimit.MaxKeyLen)
	case math.IsNaN(l.Rate) || math.IsInf(l.Rate, 0) || l.Rate <= 0:
		return fmt.Errorf("redisstore: Rate %v is not positive and finite", l.Rate)
	case l.Per < 0:
		return fmt.Errorf("redisstore: negative Per %v", l.Per)
	case l.Burst < 0:
		return fmt.Errorf("redisstore: negative Burst %d", l.Burst)
	case n < 1 || n > max(l.Burst, 1):
		return fmt.Errorf("redisstore: cannot take %d tokens of a burst of %d", n, max(l.Burst, 1))
	}
	return nil
}

// norm fills in the zero fields of l with their defaults.
func norm(l ratelimit.Limit) ratelimit.Limit {
	if l.Per == 0 {
		l.Per = time.Second
	}
	if l.Burst == 0 {
		l.Burst = 1
	}
	return l
}

// maxInterval is the longest emission interval, in nanoseconds, as the
// Store contract caps it: far longer than any Duration, and short enough
// that T·Burst stays finite.
const maxInterval = 1e30

// interval is the emission interval T = Per/Rate of a normalised limit in
// nanoseconds, at most maxInterval.
func interval(l ratelimit.Limit) float64 {
	return min(float64(l.Per)/l.Rate, maxInterval)
}

// millis rounds d up to whole milliseconds.
func millis(d time.Duration) int64 {
	ms := int64(d / time.Millisecond)
	if d%time.Millisecond != 0 {
		ms++
	}
	return ms
}
