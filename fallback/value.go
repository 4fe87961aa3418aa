package fallback

import (
	"context"
	"fmt"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/internal/callerr"
)

// DoValue runs fn under p (with [resilience.DoValue]) and, when it fails with
// any error but the caller's own cancellation, returns what fallback returns
// instead. The caller's own cancellation comes back as is.
//
//	limit, err := fallback.DoValue(ctx, p, fetchLimit, func(ctx context.Context, err error) (int, error) {
//		return conservativeLimit, nil
//	})
//
// A call that p reports successful although no attempt of fn succeeded (a
// fallback policy inside p absorbed the failure) fails with
// [resilience.ErrNoValue], which fallback answers like any other failure.
//
// To handle only some errors, return err from fallback for the others. DoValue
// emits no events; for events, use a [Policy] or a [Cache]. A nil p returns
// [resilience.ErrNilPolicy]; a nil fn or fallback returns an error matching
// [resilience.ErrNilFunc].
func DoValue[T any](ctx context.Context, p resilience.Policy, fn func(context.Context) (T, error), fallback func(ctx context.Context, err error) (T, error)) (T, error) {
	var zero T
	switch {
	case p == nil:
		return zero, resilience.ErrNilPolicy
	case fn == nil:
		return zero, resilience.ErrNilFunc
	case fallback == nil:
		return zero, errNilFallback
	}
	v, err := resilience.DoValue(ctx, p, fn)
	if err == nil || callerr.Canceled(ctx, err) {
		return v, err
	}
	return fallback(ctx, err)
}

var errNilFallback = fmt.Errorf("fallback: nil fallback: %w", resilience.ErrNilFunc)
