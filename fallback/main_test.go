package fallback_test

import (
	"context"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/magicmagnets/resilience"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// events records the events an observer receives.
type events struct {
	mu   sync.Mutex
	list []resilience.Event
}

func (r *events) Observe(e resilience.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, e)
}

func (r *events) all() []resilience.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]resilience.Event(nil), r.list...)
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
