// Package timeout bounds how long an operation may take.
//
//	p := timeout.New(2 * time.Second)
//	err := p.Do(ctx, func(ctx context.Context) error { return call(ctx) })
//
// The operation runs in the caller's goroutine under a context with a
// deadline, cancelled as soon as the operation returns or panics; no
// goroutine is started, so none can be abandoned. The operation should
// honour its context: one that ignores it runs to its end. What it returns
// then decides: a failure after the deadline comes back as a timeout (an
// error matching [ErrTimeout] and context.DeadlineExceeded), and a late
// success is a success, since the work was done.
//
// Placed inside a retry policy, a timeout bounds each attempt and a timed-out
// attempt is retried; placed outside, it bounds the whole call, and the end
// of that outer deadline is the caller's own context ending for the policies
// inside it, which do not retry it.
//
// Events (resilience.Event with Policy "timeout"), only when an observer is
// set with [Policy.WithObserver]:
//   - KindTimeout when the policy's own deadline fired and the operation
//     failed, with Duration (the time the policy allowed) and Err (the
//     operation's error);
//   - KindCall once per finished call of Do, with Duration (how long the
//     call took) and Err (what Do returned: nil, an [*Error] after a
//     timeout, or the operation's error).
package timeout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/internal/emit"
)

// ErrTimeout matches the error Do returns when its own deadline fired. Such
// an error also matches context.DeadlineExceeded.
var ErrTimeout = errors.New("timeout: deadline exceeded")

// Policy runs an operation with a deadline. It is immutable and safe for
// concurrent use.
type Policy struct {
	d    time.Duration
	emit emit.Emitter
}

// New returns a policy that gives each call at most d. It panics with the
// message of [Validate]'s error if d is not positive: a zero or negative
// timeout can never be right.
func New(d time.Duration) *Policy {
	if err := Validate(d); err != nil {
		panic(err.Error())
	}
	return &Policy{d: d, emit: emit.Emitter{Policy: "timeout"}}
}

// Validate reports what [New] would panic on: an error if d is not
// positive, nil otherwise. Use it to check a timeout read from a
// configuration file before building the policy.
func Validate(d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("timeout: non-positive timeout %v", d)
	}
	return nil
}

// WithObserver returns a copy of p that sends its events, named name, to o.
// A nil o means no events, at no cost.
func (p *Policy) WithObserver(name string, o resilience.Observer) *Policy {
	q := *p
	q.emit.Name, q.emit.Observer = name, o
	return &q
}

// Timeout returns the policy's duration.
func (p *Policy) Timeout() time.Duration { return p.d }

// Do runs fn with a context that ends after the policy's timeout (or sooner,
// if ctx ends sooner), and cancels that context when fn returns or panics.
//
// What fn returns decides the outcome. A success is a success, even one
// that came after the deadline. A failure after the deadline fired, while
// ctx itself has not ended, comes back as an [*Error] matching both
// [ErrTimeout] and context.DeadlineExceeded that wraps fn's error. When ctx
// ended, fn's error comes back unchanged: the caller's own deadline or
// cancellation is not this policy's timeout. A nil fn returns
// resilience.ErrNilFunc.
func (p *Policy) Do(ctx context.Context, fn resilience.Func) error {
	return p.DoNext(ctx, nil, fn)
}

// DoNext implements [resilience.Nexter].
func (p *Policy) DoNext(ctx context.Context, next resilience.Policy, fn resilience.Func) error {
	if fn == nil {
		return resilience.ErrNilFunc
	}
	if !p.emit.On() {
		return p.run(ctx, next, fn)
	}
	start := p.emit.Start()
	err := p.run(ctx, next, fn)
	p.emit.Call(start, err)
	return err
}

// run calls next.Do(tctx, fn), or fn(tctx) when next is nil, under tctx, a
// context that ends after the policy's timeout, and returns Do's error.
func (p *Policy) run(ctx context.Context, next resilience.Policy, fn resilience.Func) error {
	tctx, cancel := context.WithTimeout(ctx, p.d)
	// Deferred, so that a panicking fn does not leave the context (and, under
	// a parent from outside the context package, its goroutine) running
	// until the deadline.
	defer cancel()
	var err error
	if next == nil {
		err = fn(tctx)
	} else {
		err = next.Do(tctx, fn)
	}
	if err == nil || tctx.Err() == nil || ctx.Err() != nil {
		return err
	}
	p.emit.Emit(resilience.Event{Kind: resilience.KindTimeout, Duration: p.d, Err: err})
	return &Error{Timeout: p.d, Err: err}
}

// Error is the error returned when a policy's deadline fired. It matches
// [ErrTimeout] and context.DeadlineExceeded, and unwraps to the operation's
// own error.
type Error struct {
	Timeout time.Duration // the policy's timeout
	Err     error         // the operation's error
}

// Error describes the timeout and the operation's error.
func (e *Error) Error() string {
	return fmt.Sprintf("timeout: deadline of %v exceeded: %v", e.Timeout, e.Err)
}

// Is reports whether target is ErrTimeout or context.DeadlineExceeded.
func (e *Error) Is(target error) bool {
	return target == ErrTimeout || target == context.DeadlineExceeded
}

// Unwrap returns the operation's error.
func (e *Error) Unwrap() error { return e.Err }
