package resilience_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/retry"
	"github.com/magicmagnets/resilience/timeout"
)

// The benchmarks in this file share one file so that their figures are
// comparable: the baseline is what any Go caller pays for a deadline.

func ok(context.Context) error { return nil }

// BenchmarkBaselineWithTimeout is the floor: context.WithTimeout + cancel
// around a call that succeeds.
func BenchmarkBaselineWithTimeout(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		c, cancel := context.WithTimeout(ctx, time.Second)
		_ = ok(c)
		cancel()
	}
}

func BenchmarkRetrySuccess(b *testing.B) {
	p := retry.New(retry.Config{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Do(ctx, ok)
	}
}

func BenchmarkRetryTwoFailuresZeroDelay(b *testing.B) {
	p := retry.New(retry.Config{Backoff: backoff.Constant(0)})
	ctx := context.Background()
	errFlaky := errors.New("flaky")
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		_ = p.Do(ctx, func(context.Context) error {
			n++
			if n < 3 {
				return errFlaky
			}
			return nil
		})
	}
}

func BenchmarkTimeout(b *testing.B) {
	p := timeout.New(time.Second)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Do(ctx, ok)
	}
}

func BenchmarkChainTimeoutRetry(b *testing.B) {
	p := resilience.Chain(timeout.New(time.Second), retry.New(retry.Config{}))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Do(ctx, ok)
	}
}

func BenchmarkDoValue(b *testing.B) {
	p := resilience.Chain(retry.New(retry.Config{}))
	ctx := context.Background()
	fn := func(context.Context) (int, error) { return 1, nil }
	b.ReportAllocs()
	for b.Loop() {
		_, _ = resilience.DoValue(ctx, p, fn)
	}
}

func BenchmarkChainTimeoutRetryBreaker(b *testing.B) {
	p := resilience.Chain(timeout.New(time.Second), retry.New(retry.Config{}), breaker.New(breaker.Config{}))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Do(ctx, ok)
	}
}
