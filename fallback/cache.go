package fallback

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/magicmagnets/resilience"
)

// Default limits of a [Cache].
const (
	DefaultMaxKeys  = 1000
	DefaultMaxStale = time.Minute
)

// CacheConfig configures a [Cache]. The zero value is a usable configuration:
// every field's zero value means the default documented on it.
type CacheConfig struct {
	// Name is copied into the Name of every event. Zero: empty.
	Name string

	// MaxKeys bounds the number of keys remembered. When a new key would
	// exceed it, the key updated least recently is forgotten. Zero:
	// DefaultMaxKeys. Negative panics.
	MaxKeys int

	// MaxStale bounds the age of a value served in place of a failure: a
	// value is served while it is younger than MaxStale, and a value exactly
	// MaxStale old is not. Zero: DefaultMaxStale. Negative panics.
	MaxStale time.Duration

	// If reports which failures may be answered with a remembered value.
	// Zero: every error. The caller's own cancellation is never answered,
	// whatever If says.
	If func(err error) bool

	// Observer receives a resilience.KindFallback event each time a stale
	// value is served. Zero: no events.
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
	if c.MaxKeys == 0 {
		c.MaxKeys = DefaultMaxKeys
	}
	if c.MaxStale == 0 {
		c.MaxStale = DefaultMaxStale
	}
	return &Cache[K, V]{
		handler:  handler{name: c.Name, accept: c.If, observer: c.Observer},
		maxKeys:  c.MaxKeys,
		maxStale: c.MaxStale,
		entries:  make(map[K]*entry[K, V]),
	}
}

// Do runs fn under p (with [resilience.DoValue]). On success it remembers the
// value for key and returns it as fresh. On a failure the cache handles, it
// returns the value remembered for key, marked stale with its age and the
// failure, and a nil error, if that value is younger than MaxStale; otherwise
// it returns the failure. It emits an event each time it serves a stale
// value. Of concurrent successful calls for one key, the one that returns
// last is remembered.
//
// A call that p reports successful although no attempt of fn succeeded (a
// fallback policy inside p absorbed the failure) has no fresh value: it is
// handled as a failure with [resilience.ErrNoValue], and nothing is
// remembered.
//
// A nil p returns [resilience.ErrNilPolicy]; a nil fn returns
// [resilience.ErrNilFunc].
func (c *Cache[K, V]) Do(ctx context.Context, p resilience.Policy, key K, fn func(context.Context) (V, error)) (Result[V], error) {
	switch {
	case p == nil:
		return Result[V]{}, resilience.ErrNilPolicy
	case fn == nil:
		return Result[V]{}, resilience.ErrNilFunc
	}
	v, err := resilience.DoValue(ctx, p, fn)
	if err == nil {
		c.store(key, v)
		return Result[V]{Value: v}, nil
	}
	if !c.handles(ctx, err) {
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
