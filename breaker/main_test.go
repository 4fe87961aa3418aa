package breaker_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/resiliencetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var errBoom = errors.New("boom")

func ok(context.Context) error { return nil }

func boom(context.Context) error { return errBoom }

// run makes n calls of fn through b and returns how many fn ran.
func run(b *breaker.Breaker, n int, fn resilience.Func) int {
	ran := 0
	for range n {
		_ = b.Do(context.Background(), func(ctx context.Context) error {
			ran++
			return fn(ctx)
		})
	}
	return ran
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

// transitions returns the state changes rec has recorded, as "from->to".
func transitions(rec *resiliencetest.Recorder) []string {
	var out []string
	for _, tr := range rec.StateChanges() {
		out = append(out, tr.String())
	}
	return out
}

// retryAfter returns the delay hint of err, failing the test if it has none.
func retryAfter(t *testing.T, err error) time.Duration {
	t.Helper()
	d, ok := resilience.RetryAfter(err)
	if !ok {
		t.Fatalf("error %v carries no RetryAfter", err)
	}
	return d
}
