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
	"sync"
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

// Chain composes policies, outermost first:
//
//	Chain(a, b, c).Do(ctx, fn) == a.Do(ctx, func(ctx) error { return b.Do(ctx, func(ctx) error { return c.Do(ctx, fn) }) })
//
// The recommended order is
//
//	Chain(timeout.New(total), retry.New(...), breaker.New(...), timeout.New(perAttempt))
//
// a total deadline for the whole call, then retries, each attempt guarded by
// the breaker (so every attempt is counted and an open breaker rejects fast)
// and by its own timeout (so one hung attempt cannot use up the total).
//
// Chain() with no policies runs fn directly; Chain(p) is p. Nested chains are
// flattened. A nil policy is a programmer error: Chain panics at construction.
//
// Composing costs no allocation per call when the policies have a method
//
//	DoNext(ctx context.Context, next Policy, fn Func) error
//
// that does what Do(ctx, func(ctx) error { return next.Do(ctx, fn) }) does,
// as every policy of this module does: Chain builds the rest of the chain
// (next) once, at construction, and passes it inward instead of a closure,
// which would escape to the heap on every call. Other policies get the
// closure.
func Chain(policies ...Policy) Policy {
	flat := make([]Policy, 0, len(policies))
	for i, p := range policies {
		switch p := p.(type) {
		case nil:
			panic(fmt.Sprintf("resilience: Chain: policy %d is nil", i))
		case *chain:
			flat = append(flat, p.policies...)
		default:
			flat = append(flat, p)
		}
	}
	if len(flat) == 1 {
		return flat[0]
	}
	// tails[i] runs flat[i:]; every tail is made here, once, so that Do
	// passes one inward without allocating.
	c := &chain{policies: flat, tails: make([]Policy, len(flat))}
	for i := len(flat) - 1; i >= 0; i-- {
		switch i {
		case 0:
			c.tails[i] = c
		case len(flat) - 1:
			c.tails[i] = flat[i]
		default:
			c.tails[i] = &chain{policies: flat[i:], tails: c.tails[i:]}
		}
	}
	return c
}

// chain is a flattened list of policies, outermost first.
type chain struct {
	policies []Policy
	tails    []Policy // tails[i] runs policies[i:]
}

// nexter is implemented by policies that run the rest of a chain
// themselves: DoNext(ctx, next, fn) does what Do(ctx, func(ctx) error {
// return next.Do(ctx, fn) }) does, without the closure, which would escape
// to the heap on every call.
type nexter interface {
	DoNext(ctx context.Context, next Policy, fn Func) error
}

func (c *chain) Do(ctx context.Context, fn Func) error {
	if fn == nil {
		return ErrNilFunc
	}
	switch len(c.policies) {
	case 0:
		return fn(ctx)
	case 1:
		return c.policies[0].Do(ctx, fn)
	}
	next := c.tails[1]
	if n, ok := c.policies[0].(nexter); ok {
		return n.DoNext(ctx, next, fn)
	}
	return c.policies[0].Do(ctx, func(ctx context.Context) error { return next.Do(ctx, fn) })
}

// DoValue runs a value-returning operation under p and returns the value of
// the attempt whose error p returned.
//
// DoValue is race-free even when a policy returns before fn has (a policy
// that abandons a slow attempt, say): once p.Do has returned, results that
// arrive late are dropped, and of several attempts the one started last wins.
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
	v := r.result
	r.mu.Unlock()
	return v, err
}

// valueRun keeps the value of the attempt DoValue returns. One struct holds
// the whole state so that a call costs two small allocations (it and the
// method value), whatever the policy does.
type valueRun[T any] struct {
	fn      func(context.Context) (T, error)
	mu      sync.Mutex
	started int  // attempts started
	kept    int  // the attempt whose value is in result
	sealed  bool // p.Do has returned: later results are dropped
	result  T
}

func (r *valueRun[T]) run(ctx context.Context) error {
	r.mu.Lock()
	r.started++
	n := r.started
	r.mu.Unlock()

	v, err := r.fn(ctx)

	r.mu.Lock()
	if !r.sealed && n > r.kept {
		r.result, r.kept = v, n
	}
	r.mu.Unlock()
	return err
}
