package fallback_test

import (
	"context"
	"testing"

	"go.uber.org/goleak"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/resiliencetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fallbacks returns the KindFallback events rec has recorded, in order.
func fallbacks(rec *resiliencetest.Recorder) []resilience.Event {
	return ofKind(rec, resilience.KindFallback)
}

// ofKind returns the events of kind k that rec has recorded, in order.
func ofKind(rec *resiliencetest.Recorder, k resilience.Kind) []resilience.Event {
	var out []resilience.Event
	for _, e := range rec.Events() {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// direct runs fn once, as a policy.
var direct = resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error { return fn(ctx) })

// retryN is a minimal retrying policy: it runs fn up to n times and stops at
// the first success or at the caller's cancellation.
func retryN(n int) resilience.Policy {
	return resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error {
		var err error
		for range n {
			if err = fn(ctx); err == nil || ctx.Err() != nil {
				return err
			}
		}
		return err
	})
}
