package resilience

import (
	"context"
	"errors"
	"fmt"
)

// ErrInvalid marks a result that arrived but failed validation: a truncated
// body, a field that breaks an invariant, a checksum that does not match.
// Errors returned by a function built with [Validate] match it.
var ErrInvalid = errors.New("resilience: invalid result")

// Validate returns an operation that calls fn and checks what it returned
// with check. When check rejects the value, the operation returns the zero T
// and an error that matches both [ErrInvalid] and check's error, so a wrong
// answer is a failure like any other: a retry policy tries again and a
// breaker counts it. The rejected value is never returned.
//
// Use it wherever a value-returning operation is accepted:
//
//	order, err := resilience.DoValue(ctx, p, resilience.Validate(fetchOrder, checkOrder))
//
// When fn fails, its error is returned as is and check is not called. If
// check's error should not be retried, make it permanent ([Permanent]):
// the wrapping keeps it reachable with errors.Is and errors.As.
//
// A nil fn gives a nil operation, which every policy and [DoValue] reject
// with [ErrNilFunc]; a nil check gives fn unchanged.
func Validate[T any](fn func(context.Context) (T, error), check func(T) error) func(context.Context) (T, error) {
	if fn == nil {
		return nil
	}
	if check == nil {
		return fn
	}
	return func(ctx context.Context) (T, error) {
		v, err := fn(ctx)
		if err != nil {
			return v, err
		}
		if err := check(v); err != nil {
			var zero T
			return zero, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		return v, nil
	}
}
