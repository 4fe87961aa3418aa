package breaker_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
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

// recorder is an Observer that keeps every event.
type recorder struct {
	mu     sync.Mutex
	events []resilience.Event
}

func (r *recorder) Observe(e resilience.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// kinds returns the events of kind k.
func (r *recorder) kinds(k resilience.Kind) []resilience.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []resilience.Event
	for _, e := range r.events {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// transitions returns the state changes as "from>to" strings.
func (r *recorder) transitions() []string {
	var out []string
	for _, e := range r.kinds(resilience.KindStateChange) {
		out = append(out, e.From+">"+e.To)
	}
	return out
}

// retryAfter returns the delay hint of err, failing the test if it has none.
func retryAfter(t *testing.T, err error) time.Duration {
	t.Helper()
	var h interface{ RetryAfter() time.Duration }
	if !errors.As(err, &h) {
		t.Fatalf("error %v carries no RetryAfter", err)
	}
	return h.RetryAfter()
}
