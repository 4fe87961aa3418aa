package fallback

import (
	"cmp"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/magicmagnets/resilience"
)

// The limits a zero CacheConfig field stands for.
const (
	defaultMaxKeys  = 1000
	defaultMaxStale = time.Minute
)

// CacheConfig configures a [Cache]. The zero value is a usable configuration:
// every field's zero value means the default documented on it.
type CacheConfig struct {
	// Name is copied into the Name of every event. Zero means no name.
	Name string

	// MaxKeys bounds the number of keys remembered. When a new key would
	// exceed it, the key updated least recently is forgotten. Zero means
	// 1000; negative panics.
	MaxKeys int

	// MaxStale bounds the age of a value served in place of a failure: a
	// value is served while it is younger than MaxStale, and a value exactly
	// MaxStale old is not. Zero means 1m; negative panics.
	MaxStale time.Duration

	// FallbackIf reports whether the cache answers a failure with the value
	// it remembers: it is called with every non-nil error but the caller's
	// own cancellation, which is never answered. Zero means every such error
	// is answered.
	FallbackIf func(err error) bool

	// Observer receives the cache's events: KindCall for every call and
	// KindFallback each time a stale value is served (see the package doc).
	// Zero means no events, at no cost.
	Observer resilience.Observer
}

// Validate reports what [NewCache] would panic on: an error if c.MaxKeys
// or c.MaxStale is negative, nil otherwise.
func (c CacheConfig) Validate() error {
	if c.MaxKeys < 0 {
		return fmt.Errorf("fallback: negative CacheConfig.MaxKeys %d", c.MaxKeys)
	}
	if c.MaxStale < 0 {
		return fmt.Errorf("fallback: negative CacheConfig.MaxStale %v", c.MaxStale)
	}
	return nil
}

// Result is what a [Cache] returns: a fresh value, just returned by the call,
// or a stale one that stands in for the call's failure.
type Result[V any] struct {
	Value V
	// Stale reports that Value is a remembered value served because the
	// call failed with Err.
	Stale bool
	// Age is how long ago Value was returned by a successful call: zero for
	// a fresh value, less than MaxStale for a stale one.
	Age time.Duration
	// Err is the failure a stale Value stands in for; nil for a fresh value.
	Err error
}

// Cache remembers the last value a call returned successfully, per key, and
// serves it when the call fails, but only while it is younger than the
// configured maximum staleness: past that bound the call's error comes back,
// so a fallback never hides an outage for ever.
//
// A Cache is safe for concurrent use. It starts no goroutine: values that
// are too old, and keys beyond the bound, are dropped on later calls. Create
// one with [NewCache]; the zero value is not usable.
type Cache[K comparable, V any] struct {
	handler
	maxKeys  int
	maxStale time.Duration

	mu      sync.Mutex
	entries map[K]*entry[K, V] // guarded by mu
	// oldest and newest end a doubly linked list of the entries in the order
	// they were last updated, so eviction and expiry take from the front.
	oldest, newest *entry[K, V] // guarded by mu
}

type entry[K comparable, V any] struct {
	key        K
	value      V
	stored     time.Time
	prev, next *entry[K, V] // prev is older, next is newer
}

// NewCache returns an empty Cache configured by c. It panics with the
// message of c.Validate's error if c is invalid (c.MaxKeys or c.MaxStale is
// negative).
func NewCache[K comparable, V any](c CacheConfig) *Cache[K, V] {
	if err := c.Validate(); err != nil {
		panic(err.Error())
	}
	return &Cache[K, V]{
		handler:  newHandler(c.Name, c.FallbackIf, c.Observer),
		maxKeys:  cmp.Or(c.MaxKeys, defaultMaxKeys),
		maxStale: cmp.Or(c.MaxStale, defaultMaxStale),
		entries:  make(map[K]*entry[K, V]),
	}
}

// Do runs fn once. On success it remembers the value for key and returns it
// as fresh. On a failure the cache answers (see CacheConfig.FallbackIf), it
// returns the value remembered for key, marked stale with its age and the
// failure, and a nil error, if that value is younger than MaxStale;
// otherwise it returns the failure. With an Observer, it emits a
// KindFallback event each time it serves a stale value and a KindCall event
// for every call. Of concurrent successful calls for one key, the one that
// returns last is remembered.
//
// A Cache runs no policy of its own. To retry the call or guard it with a
// breaker, run the policy inside fn, with [resilience.DoValue]:
//
//	res, err := rates.Do(ctx, "EUR", func(ctx context.Context) (float64, error) {
//		return resilience.DoValue(ctx, p, fetchEUR)
//	})
//
// The cache then answers once p has given up. A call that p reports
// successful although no attempt succeeded (a fallback inside p absorbed
// the failure) fails there with [resilience.ErrNoValue], which the cache
// answers like any other failure: nothing is remembered.
//
// A nil fn returns [resilience.ErrNilFunc].
func (c *Cache[K, V]) Do(ctx context.Context, key K, fn func(context.Context) (V, error)) (Result[V], error) {
	if fn == nil {
		return Result[V]{}, resilience.ErrNilFunc
	}
	start := c.em.Start()
	res, err := c.do(ctx, key, fn)
	if c.em.On() {
		c.em.Call(start, err)
	}
	return res, err
}

// do is Do without the KindCall event.
func (c *Cache[K, V]) do(ctx context.Context, key K, fn func(context.Context) (V, error)) (Result[V], error) {
	v, err := fn(ctx)
	if err == nil {
		c.store(key, v)
		return Result[V]{Value: v}, nil
	}
	if !c.answers(ctx, err) {
		return Result[V]{}, err
	}
	old, age, ok := c.load(key)
	if !ok {
		return Result[V]{}, err
	}
	c.used(err)
	return Result[V]{Value: old, Stale: true, Age: age, Err: err}, nil
}

// Forget drops the value remembered for key, if any.
func (c *Cache[K, V]) Forget(key K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		c.remove(e)
	}
}

// Len returns the number of keys remembered, including values too old to be
// served that have not been dropped yet.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// store remembers v as the newest value for key.
func (c *Cache[K, V]) store(key K, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// Read the clock under the lock so that the list stays in time order.
	now := time.Now()
	if e, ok := c.entries[key]; ok {
		e.value, e.stored = v, now
		c.unlink(e)
		c.push(e)
		return
	}
	for c.oldest != nil && now.Sub(c.oldest.stored) >= c.maxStale {
		c.remove(c.oldest)
	}
	var e *entry[K, V]
	if len(c.entries) >= c.maxKeys {
		e = c.oldest // least recently updated: reuse its memory
		c.remove(e)
	} else {
		e = new(entry[K, V])
	}
	e.key, e.value, e.stored = key, v, now
	c.entries[key] = e
	c.push(e)
}

// load returns the value remembered for key and its age, if it is younger
// than maxStale. A value that is too old is dropped.
func (c *Cache[K, V]) load(key K) (v V, age time.Duration, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return v, 0, false
	}
	age = time.Since(e.stored)
	if age >= c.maxStale {
		c.remove(e)
		return v, 0, false
	}
	return e.value, age, true
}

// push appends e, which is not in the list, as the newest entry.
func (c *Cache[K, V]) push(e *entry[K, V]) {
	e.prev, e.next = c.newest, nil
	if c.newest != nil {
		c.newest.next = e
	} else {
		c.oldest = e
	}
	c.newest = e
}

// unlink takes e out of the list.
func (c *Cache[K, V]) unlink(e *entry[K, V]) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		c.oldest = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		c.newest = e.prev
	}
	e.prev, e.next = nil, nil
}

// remove forgets e: it leaves the list and the map, and drops its value so
// that the value can be collected.
func (c *Cache[K, V]) remove(e *entry[K, V]) {
	c.unlink(e)
	delete(c.entries, e.key)
	var zero V
	e.value = zero
}
