package ratelimit_test

import (
	"context"
	"testing"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/ratelimit"
)

// The paths a service runs on every request, at a rate no benchmark
// reaches, so that nothing is refused and the figures are the cost of a
// decision. bench/ratelimit_test.go compares them with peers.
var benchConfig = ratelimit.Config{Rate: 1e9, Burst: 1000}

func BenchmarkAllow(b *testing.B) {
	l := ratelimit.New(benchConfig)
	b.ReportAllocs()
	for b.Loop() {
		l.Allow()
	}
}

func BenchmarkDo(b *testing.B) {
	l := ratelimit.New(benchConfig)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = l.Do(ctx, ok)
	}
}

// BenchmarkDoGivesBack: the outer of two stacked limits when the inner
// one refuses: a take and a give-back.
func BenchmarkDoGivesBack(b *testing.B) {
	l := ratelimit.New(benchConfig)
	ctx := context.Background()
	refused := func(context.Context) error { return resilience.ErrRejected }
	b.ReportAllocs()
	for b.Loop() {
		_ = l.Do(ctx, refused)
	}
}

func BenchmarkKeyedAllow(b *testing.B) {
	k := ratelimit.NewKeyed(benchConfig, 0)
	k.Allow("tenant-1")
	b.ReportAllocs()
	for b.Loop() {
		k.Allow("tenant-1")
	}
}

func BenchmarkKeyedDo(b *testing.B) {
	k := ratelimit.NewKeyed(benchConfig, 0)
	ctx := context.Background()
	_ = k.Do(ctx, "tenant-1", ok)
	b.ReportAllocs()
	for b.Loop() {
		_ = k.Do(ctx, "tenant-1", ok)
	}
}

func BenchmarkAllowParallel(b *testing.B) {
	l := ratelimit.New(benchConfig)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Allow()
		}
	})
}
