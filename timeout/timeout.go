// Package timeout bounds how long an operation may take.
//
//	p := timeout.New(2 * time.Second)
//	err := p.Do(ctx, func(ctx context.Context) error { return call(ctx) })
//
// The operation runs in the caller's goroutine under a context with a
// deadline; no goroutine is started, so none can be abandoned. The operation
// must honour its context: one that ignores it runs to its end, and Do then
// reports the timeout if the deadline passed meanwhile.
//
// Placed inside a retry policy, a timeout bounds each attempt and a timed-out
// attempt is retried; placed outside, it bounds the whole call, and the end
// of that outer deadline is the caller's own context ending for the policies
// inside it, which do not retry it.
//
// Events (resilience.Event with Policy "timeout"): KindTimeout with Delay set
// to the timeout and Err to the operation's error.
package timeout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/magicmagnets/resilience"
)

// ErrTimeout matches the error Do returns when its own deadline fired. Such
// an error also matches context.DeadlineExceeded.
var ErrTimeout = errors.New("timeout: deadline exceeded")

// Policy runs an operation with a deadline. It is immutable and safe for
// concurrent use.
type Policy struct {
	d        time.Duration
	name     string
	observer resilience.Observer
}

// New returns a policy that gives each call at most d. It panics with a
// "timeout:" message if d is not positive: a zero or negative timeout can
// never be right.
func New(d time.Duration) *Policy {
	if d <= 0 {
		panic(fmt.Sprintf("timeout: non-positive timeout %v", d))
	}
	return &Policy{d: d}
}

// WithObserver returns a copy of p that sends its events, named name, to o.
func (p *Policy) WithObserver(name string, o resilience.Observer) *Policy {
	q := *p
	q.name, q.observer = name, o
	return &q
}

// Timeout returns the policy's duration.
func (p *Policy) Timeout() time.Duration { return p.d }

// Do runs fn with a context that ends after the policy's timeout (or sooner,
// if ctx ends sooner). When fn fails after that deadline fired and ctx itself
// has not ended, Do returns an error matching both [ErrTimeout] and
// context.DeadlineExceeded that wraps fn's error. When ctx ended, fn's error
// comes back unchanged: the caller's own deadline or cancellation is not this
// policy's timeout. A nil fn returns resilience.ErrNilFunc.
func (p *Policy) Do(ctx context.Context, fn resilience.Func) error {
	return p.DoNext(ctx, nil, fn)
}

// DoNext is Do running next.Do(ctx, fn) rather than fn(ctx); a nil next
// runs fn. resilience.Chain calls it so that composing policies allocates
// no closure.
func (p *Policy) DoNext(ctx context.Context, next resilience.Policy, fn resilience.Func) error {
	if fn == nil {
		return resilience.ErrNilFunc
	}
	tctx, cancel := context.WithTimeout(ctx, p.d)
	var err error
	if next == nil {
		err = fn(tctx)
	} else {
		err = next.Do(tctx, fn)
	}
	fired := err != nil && tctx.Err() != nil && ctx.Err() == nil
	cancel()
	if !fired {
		return err
	}
	if p.observer != nil {
		p.observer.Observe(resilience.Event{Policy: "timeout", Name: p.name, Kind: resilience.KindTimeout, Delay: p.d, Err: err})
	}
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
