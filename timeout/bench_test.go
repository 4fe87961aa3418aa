package timeout_test

import (
	"context"
	"testing"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/timeout"
)

// BenchmarkSuccess is the fast path: the operation returns at once, nobody
// observes.
func BenchmarkSuccess(b *testing.B) {
	p := timeout.New(time.Second)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Do(ctx, succeed)
	}
}

// BenchmarkSuccessObserved is the same call with an observer, which gets
// one KindCall event.
func BenchmarkSuccessObserved(b *testing.B) {
	p := timeout.New(time.Second).WithObserver("bench", resilience.ObserverFunc(func(resilience.Event) {}))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Do(ctx, succeed)
	}
}
