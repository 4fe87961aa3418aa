package breaker_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/magicmagnets/resilience/breaker"
)

var errBench = errors.New("bench: failure")

func succeed(context.Context) error { return nil }

func fail(context.Context) error { return errBench }

// BenchmarkClosedSuccess measures the default configuration's fast path.
func BenchmarkClosedSuccess(b *testing.B) {
	br := breaker.New(breaker.Config{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = br.Do(ctx, succeed)
	}
}

func BenchmarkClosedSuccessParallel(b *testing.B) {
	br := breaker.New(breaker.Config{})
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = br.Do(ctx, succeed)
		}
	})
}

// BenchmarkClosedFailure records failures on a disabled breaker, which
// counts them like a closed one but never trips.
func BenchmarkClosedFailure(b *testing.B) {
	br := breaker.New(breaker.Config{})
	br.Disable()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = br.Do(ctx, fail)
	}
}

func BenchmarkClosedFailureParallel(b *testing.B) {
	br := breaker.New(breaker.Config{})
	br.Disable()
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = br.Do(ctx, fail)
		}
	})
}

// BenchmarkClosedSuccessTimeWindow reads the clock to find the bucket and
// takes the lock for every call.
func BenchmarkClosedSuccessTimeWindow(b *testing.B) {
	br := breaker.New(breaker.Config{Window: time.Minute})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = br.Do(ctx, succeed)
	}
}

// BenchmarkClosedSuccessSlowCallTiming reads the clock before and after the
// call.
func BenchmarkClosedSuccessSlowCallTiming(b *testing.B) {
	br := breaker.New(breaker.Config{SlowCallDuration: time.Second})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = br.Do(ctx, succeed)
	}
}

func tripped() *breaker.Breaker {
	br := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: time.Hour})
	_ = br.Do(context.Background(), fail)
	return br
}

func BenchmarkOpenRejection(b *testing.B) {
	br := tripped()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = br.Do(ctx, succeed)
	}
}

func BenchmarkOpenRejectionParallel(b *testing.B) {
	br := tripped()
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = br.Do(ctx, succeed)
		}
	})
}

// busyHalfOpen returns a breaker that is half-open with its one probe slot
// taken, so every call is rejected under the lock.
func busyHalfOpen(b *testing.B) *breaker.Breaker {
	br := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: time.Nanosecond})
	_ = br.Do(context.Background(), fail)
	for br.State() != breaker.HalfOpen {
	}
	if _, err := br.Allow(); err != nil {
		b.Fatal(err)
	}
	return br
}

func BenchmarkHalfOpenRejection(b *testing.B) {
	br := busyHalfOpen(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = br.Do(ctx, succeed)
	}
}

func BenchmarkHalfOpenRejectionParallel(b *testing.B) {
	br := busyHalfOpen(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			_ = br.Do(ctx, succeed)
		}
	})
}

func BenchmarkAllowDone(b *testing.B) {
	br := breaker.New(breaker.Config{})
	b.ReportAllocs()
	for b.Loop() {
		p, err := br.Allow()
		if err == nil {
			p.Done(nil)
		}
	}
}

var sinkElapsed time.Duration

// BenchmarkClockSince is the cost of one time.Since, the yardstick of the
// time-window and slow-call targets: the closed success of a time window
// should cost no more than BenchmarkClosedSuccess plus one of these plus
// 10 ns, with slow-call timing plus two.
func BenchmarkClockSince(b *testing.B) {
	epoch := time.Now()
	for b.Loop() {
		sinkElapsed = time.Since(epoch)
	}
}
