// Package resilience makes outbound calls survive an unreliable network.
//
// Every resilience mechanism in this module — timeouts, retries with backoff
// and jitter, circuit breakers, idempotency keys, fallbacks — is a [Policy]:
// a value that guards one call of a [Func]. Policies compose with [Chain],
// outermost first:
//
//	p := resilience.Chain(
//		timeout.New(10*time.Second),       // a total deadline for the whole call
//		retry.New(retry.Config{}),         // then retries with backoff and jitter
//		breaker.New(breaker.Config{}),     // each attempt guarded by the breaker
//		timeout.New(2*time.Second),        // and by its own timeout
//	)
//	err := p.Do(ctx, func(ctx context.Context) error { return callPayments(ctx) })
//
// Every policy keeps the same rules: the context is never stored, every wait
// selects on ctx.Done(), no goroutine outlives the call that started it, state
// changes happen lazily on the next call (so policies work inside a
// testing/synctest bubble), user hooks never run under a lock, and the
// caller's own cancellation is never counted as a failure of the dependency.
package resilience

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"

	"github.com/magicmagnets/resilience/internal/win"
)

// Func is one call of an operation that may fail. It must honour ctx.
type Func func(ctx context.Context) error

// Policy guards one call of fn: it may run fn several times (retry), not at
// all (an open breaker), under a derived context (timeout), or return a
// recorded result instead (idempotency).
//
// Implementations are safe for concurrent use. A nil fn makes Do return an
// error matching [ErrNilFunc]; it never panics.
type Policy interface {
	Do(ctx context.Context, fn Func) error
}

// PolicyFunc adapts an ordinary function to a [Policy].
type PolicyFunc func(ctx context.Context, fn Func) error

// Do calls f(ctx, fn). A nil fn returns [ErrNilFunc] without calling f.
func (f PolicyFunc) Do(ctx context.Context, fn Func) error {
	if fn == nil {
		return ErrNilFunc
	}
	return f(ctx, fn)
}

// ErrNilFunc is returned by every policy's Do when the operation is nil.
var ErrNilFunc = errors.New("resilience: nil func")

// ErrNilPolicy is returned by [DoValue] when the policy is nil.
var ErrNilPolicy = errors.New("resilience: nil policy")

// ErrNoValue is returned by [DoValue] when the policy returned nil but no
// attempt of the operation succeeded, so there is no value to return: a
// fallback absorbed the failure, or a recorded outcome was replayed without
// running the operation.
var ErrNoValue = errors.New("resilience: no value")

// Nexter is the optional fast path of [Chain], as [io.WriterTo] is of
// io.Copy: a [Policy] that can run the rest of a chain itself implements it,
// and Chain then calls DoNext instead of Do.
//
// DoNext(ctx, next, fn) must do exactly what
//
//	Do(ctx, func(ctx context.Context) error { return next.Do(ctx, fn) })
//
// does — the same calls of fn, errors and events — but without the
// closure, which escapes to the heap on every call; DoNext(ctx, nil, fn)
// must do what Do(ctx, fn) does. Chain builds next, the rest of the chain,
// once, at construction, and passes the same value on every call; DoNext
// must not keep it.
//
// A type that embeds a policy implementing Nexter gets its DoNext promoted.
// If such a type overrides Do, it must override DoNext as well, or Chain
// will call the embedded policy's DoNext and bypass the override.
//
// The policies of this module's packages (retry, hedge, breaker, timeout,
// fallback, idempotency, ratelimit, bulkhead, adaptive, resiliencetest) all
// implement Nexter; a [PolicyFunc] does not, and gets the closure.
type Nexter interface {
	Policy
	DoNext(ctx context.Context, next Policy, fn Func) error
}

// Chain composes policies, outermost first:
//
//	Chain(a, b, c).Do(ctx, fn) == a.Do(ctx, func(ctx) error { return b.Do(ctx, func(ctx) error { return c.Do(ctx, fn) }) })
//
// The recommended order is
//
//	Chain(fallback, timeout.New(total), retry.New(...), breaker.New(...), limit, timeout.New(perAttempt))
//
// a fallback that answers once everything inside it has given up, a total
// deadline for the whole call, then retries, each attempt guarded by the
// breaker (so every attempt is counted and an open breaker rejects fast),
// by an optional limit on what reaches the dependency (a ratelimit,
// bulkhead, adaptive.Limiter or adaptive.Throttler, whose refusals the
// breaker does not count as failures) and by its own timeout (so one hung
// attempt cannot use up the total). A hedge.Policy takes retry's place,
// sharing a retry.Budget with any retries so that together they cannot
// multiply the load.
//
// Chain() with no policies runs fn directly; Chain(p) is p. Nested chains are
// flattened. A nil policy, untyped or typed (a nil *retry.Policy, say), is a
// programmer error: Chain panics at construction, naming its position.
//
// A policy that implements [Nexter] is given the rest of the chain, built
// once, instead of a closure made on every call; composing the policies of
// this module costs no allocation per call.
func Chain(policies ...Policy) Policy {
	flat := make([]Policy, 0, len(policies))
	for i, p := range policies {
		if isNil(p) {
			if p == nil {
				panic(fmt.Sprintf("resilience: Chain: policy %d is nil", i))
			}
			panic(fmt.Sprintf("resilience: Chain: policy %d is a nil %T", i, p))
		}
		if c, ok := p.(*chain); ok {
			flat = append(flat, c.policies...)
			continue
		}
		flat = append(flat, p)
	}
	if len(flat) == 1 {
		return flat[0]
	}
	// tails[i] runs flat[i:]; every tail is made here, once, so that Do
	// passes one inward without allocating.
	c := newChain(flat, make([]Policy, len(flat)))
	for i := len(flat) - 1; i >= 0; i-- {
		switch i {
		case 0:
			c.tails[i] = c
		case len(flat) - 1:
			c.tails[i] = flat[i]
		default:
			c.tails[i] = newChain(flat[i:], c.tails[i:])
		}
	}
	return c
}

// isNil reports whether p is nil or holds a nil pointer, func, map, slice,
// channel or interface, whose Do would fail with a nil dereference later.
func isNil(p Policy) bool {
	if p == nil {
		return true
	}
	switch v := reflect.ValueOf(p); v.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Map, reflect.Slice, reflect.Chan, reflect.Interface, reflect.UnsafePointer:
		return v.IsNil()
	}
	return false
}

// chain is a flattened list of policies, outermost first: none (Chain()),
// or at least two.
type chain struct {
	policies []Policy
	tails    []Policy // tails[i] runs policies[i:]
	head     Nexter   // policies[0], if it is a Nexter: found once, not per call
}

func newChain(policies, tails []Policy) *chain {
	c := &chain{policies: policies, tails: tails}
	if len(policies) > 0 {
		c.head, _ = policies[0].(Nexter)
	}
	return c
}

func (c *chain) Do(ctx context.Context, fn Func) error {
	if fn == nil {
		return ErrNilFunc
	}
	if c.head != nil {
		return c.head.DoNext(ctx, c.tails[1], fn)
	}
	if len(c.policies) == 0 {
		return fn(ctx)
	}
	next := c.tails[1]
	return c.policies[0].Do(ctx, func(ctx context.Context) error { return next.Do(ctx, fn) })
}

// DoValue runs a value-returning operation under p.
//
// When p returns nil, DoValue returns the value of an attempt that
// succeeded: the first to succeed, when several ran at once (as under
// hedging). When p returns nil but no attempt succeeded — a fallback
// absorbed the failure, a recorded outcome was replayed without running the
// operation — there is no value, and DoValue returns the zero value and
// [ErrNoValue]. When p returns an error, DoValue returns the zero value and
// that error.
//
// DoValue is race-free even when attempts outlive p.Do (a policy that
// abandons a slow attempt, say): once p.Do has returned, results that arrive
// late are dropped.
func DoValue[T any](ctx context.Context, p Policy, fn func(context.Context) (T, error)) (T, error) {
	var zero T
	if p == nil {
		return zero, ErrNilPolicy
	}
	if fn == nil {
		return zero, ErrNilFunc
	}
	r := &valueRun[T]{fn: fn}
	err := p.Do(ctx, r.run)
	r.mu.Lock()
	r.sealed = true
	v, ok := r.result, r.ok
	r.mu.Unlock()
	switch {
	case err != nil:
		return zero, err
	case !ok:
		return zero, ErrNoValue
	}
	return v, nil
}

// valueRun keeps the value of the first attempt to succeed. One struct holds
// the whole state so that a call costs two small allocations (it and the
// method value), whatever the policy does.
type valueRun[T any] struct {
	fn     func(context.Context) (T, error)
	mu     sync.Mutex
	ok     bool // an attempt succeeded and its value is in result
	sealed bool // p.Do has returned: later results are dropped
	result T
}

func (r *valueRun[T]) run(ctx context.Context) error {
	v, err := r.fn(ctx)
	if err != nil {
		return err
	}
	// Under a policy that races attempts (hedging), only the attempt that
	// claims the win keeps its value: the first success to claim it is the
	// one the policy returns, and the others are cancelled losers.
	if !win.Claim(ctx) {
		return nil
	}
	r.mu.Lock()
	if !r.sealed && !r.ok {
		r.result, r.ok = v, true
	}
	r.mu.Unlock()
	return nil
}
