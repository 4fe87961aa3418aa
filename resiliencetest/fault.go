package resiliencetest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/magicmagnets/resilience"
)

// ErrInjected is the error an injected failure returns when no other error
// was given.
var ErrInjected = errors.New("resiliencetest: injected fault")

// Fault is one outcome an [Injector] imposes on a call: let it through, fail
// it, delay it, lose its result or panic. The zero Fault is [Pass]. Faults
// are small values, safe to share.
type Fault struct {
	kind  faultKind
	err   error
	delay time.Duration
	value any
}

type faultKind uint8

const (
	kindPass faultKind = iota
	kindFail
	kindDelay
	kindLose
	kindPanic
)

// Pass lets the call through untouched: the operation runs and its result is
// returned.
func Pass() Fault { return Fault{} }

// Fail makes the call fail with err without running the operation. A nil
// err means [ErrInjected].
func Fail(err error) Fault {
	if err == nil {
		err = ErrInjected
	}
	return Fault{kind: kindFail, err: err}
}

// Delay makes the call wait d before the operation runs. The wait selects on
// the context: if the context ends first, the operation does not run and the
// call returns the context's error. A non-positive d runs the operation at
// once.
func Delay(d time.Duration) Fault { return Fault{kind: kindDelay, delay: d} }

// Lose runs the operation, discards its result and returns err instead (nil
// means [ErrInjected]): the work was done but the caller never learns it,
// like a response lost on its way back. Use it to test that a retried
// operation is idempotent.
func Lose(err error) Fault {
	if err == nil {
		err = ErrInjected
	}
	return Fault{kind: kindLose, err: err}
}

// Panic makes the call panic with v without running the operation. A nil v
// panics with [ErrInjected].
func Panic(v any) Fault {
	if v == nil {
		v = ErrInjected
	}
	return Fault{kind: kindPanic, value: v}
}

// String describes f: "pass", "fail(err)", "delay(1s)", "lose(err)",
// "panic(v)".
func (f Fault) String() string {
	switch f.kind {
	case kindFail:
		return fmt.Sprintf("fail(%v)", f.err)
	case kindDelay:
		return fmt.Sprintf("delay(%v)", f.delay)
	case kindLose:
		return fmt.Sprintf("lose(%v)", f.err)
	case kindPanic:
		return fmt.Sprintf("panic(%v)", f.value)
	default:
		return "pass"
	}
}

// apply runs one call of fn under f: next.Do(ctx, fn), or fn(ctx) when next
// is nil.
func (f Fault) apply(ctx context.Context, next resilience.Policy, fn resilience.Func) error {
	switch f.kind {
	case kindFail:
		return f.err
	case kindDelay:
		if err := wait(ctx, f.delay); err != nil {
			return err
		}
		return run(ctx, next, fn)
	case kindLose:
		_ = run(ctx, next, fn)
		return f.err
	case kindPanic:
		panic(f.value)
	default:
		return run(ctx, next, fn)
	}
}

// run calls next.Do(ctx, fn), or fn(ctx) when next is nil.
func run(ctx context.Context, next resilience.Policy, fn resilience.Func) error {
	if next == nil {
		return fn(ctx)
	}
	return next.Do(ctx, fn)
}

// wait blocks for d or until ctx ends, whichever comes first, and returns
// ctx's error in the second case. The timer is stopped either way.
func wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
