package hedge_test

import (
	"context"
	"testing"
	"time"

	"github.com/magicmagnets/resilience/hedge"
)

// BenchmarkHedgeFirstAttemptWins is the fast path: the first attempt
// succeeds before the delay, so no hedge is sent.
func BenchmarkHedgeFirstAttemptWins(b *testing.B) {
	p := hedge.New(hedge.Config{Delay: time.Second})
	ctx := context.Background()
	op := func(context.Context) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Do(ctx, op); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHedgeFirstAttemptWinsQuantile is the fast path with a
// quantile delay: two clock reads and one sample per call.
func BenchmarkHedgeFirstAttemptWinsQuantile(b *testing.B) {
	p := hedge.New(hedge.Config{Quantile: 0.95, Delay: time.Second, MinDelay: time.Second})
	ctx := context.Background()
	op := func(context.Context) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Do(ctx, op); err != nil {
			b.Fatal(err)
		}
	}
}
