package retry_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/retry"
)

// BenchmarkSuccess is the fast path: the first attempt succeeds, nobody
// observes.
func BenchmarkSuccess(b *testing.B) {
	p := retry.New(retry.Config{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Do(ctx, succeed)
	}
}

// BenchmarkSuccessObserved is the first-attempt success with an observer,
// which gets one KindCall event.
func BenchmarkSuccessObserved(b *testing.B) {
	p := retry.New(retry.Config{Observer: resilience.ObserverFunc(func(resilience.Event) {})})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Do(ctx, succeed)
	}
}

// BenchmarkExhausted is a call whose three attempts fail with a wrapped
// error and no wait between them: the failure path's cost per call.
func BenchmarkExhausted(b *testing.B) {
	p := retry.New(retry.Config{Backoff: backoff.Constant(0)})
	ctx := context.Background()
	wrapped := fmt.Errorf("call: %w", errors.New("flaky"))
	fail := func(context.Context) error { return wrapped }
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Do(ctx, fail)
	}
}

// BenchmarkNext is the exported decision step on a wrapped error.
func BenchmarkNext(b *testing.B) {
	p := retry.New(retry.Config{Backoff: backoff.Constant(0)})
	wrapped := fmt.Errorf("call: %w", errors.New("flaky"))
	b.ReportAllocs()
	for b.Loop() {
		_, _ = p.Next(1, wrapped)
	}
}
