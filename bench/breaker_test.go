package bench

import (
	"context"
	"testing"
	"time"

	eapache "github.com/eapache/go-resiliency/breaker"
	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/sony/gobreaker/v2"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
)

// breakerSubjects returns the circuit breakers compared, each configured as
// close to our default as the library allows: trip when half of the last
// 100 calls failed (once at least 20 were made), stay open for openFor.
func breakerSubjects(openFor time.Duration) []subject {
	return []subject{
		{"resilience", breaker.New(breaker.Config{OpenFor: openFor}).Do},
		{"failsafe", failsafeBreaker(openFor)},
		{"gobreaker", gobreakerBreaker(openFor)},
		{"eapache", eapacheBreaker(openFor)},
	}
}

// failsafeBreaker: a count-based breaker that opens when 50 of the last 100
// executions failed. The executor is built once.
func failsafeBreaker(openFor time.Duration) func(context.Context, resilience.Func) error {
	cb := circuitbreaker.NewBuilder[any]().WithFailureThresholdRatio(50, 100).WithDelay(openFor).Build()
	ex := failsafe.With[any](cb)
	return func(ctx context.Context, op resilience.Func) error {
		return ex.Run(func() error { return op(ctx) })
	}
}

// gobreakerBreaker: gobreaker has no sliding count window; with Interval 0
// its counts are never cleared while closed, and ReadyToTrip applies our
// rule (at least 20 calls, failure rate ≥ 0.5) to them.
func gobreakerBreaker(openFor time.Duration) func(context.Context, resilience.Func) error {
	cb := gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Timeout: openFor,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.Requests >= 20 && 2*c.TotalFailures >= c.Requests
		},
	})
	return func(ctx context.Context, op resilience.Func) error {
		_, err := cb.Execute(func() (struct{}, error) { return struct{}{}, op(ctx) })
		return err
	}
}

// eapacheBreaker: eapache's breaker counts errors until an error-free
// period of openFor; it opens after 50 of them and closes after one
// successful probe.
func eapacheBreaker(openFor time.Duration) func(context.Context, resilience.Func) error {
	b := eapache.New(50, 1, openFor)
	return func(ctx context.Context, op resilience.Func) error {
		return b.Run(func() error { return op(ctx) })
	}
}

// trip fails calls through s until it rejects one without running the
// operation, and reports whether it did within 1,000 calls.
func trip(s subject) bool {
	ctx := context.Background()
	for range 1000 {
		ran := false
		err := s.do(ctx, func(context.Context) error { ran = true; return errFlaky })
		if err != nil && !ran {
			return true
		}
	}
	return false
}

// openSubjects returns breakerSubjects tripped open for an hour.
func openSubjects(b *testing.B) []subject {
	subjects := breakerSubjects(time.Hour)
	for _, s := range subjects {
		if !trip(s) {
			b.Fatalf("%s: breaker did not open", s.lib)
		}
	}
	return subjects
}

// BenchmarkBreakerClosedSuccess: a closed breaker admits a call that
// succeeds.
func BenchmarkBreakerClosedSuccess(b *testing.B) {
	run(b, breakerSubjects(5*time.Second), succeed, nil, false)
}

// BenchmarkBreakerOpenRejection: an open breaker rejects a call.
func BenchmarkBreakerOpenRejection(b *testing.B) {
	run(b, openSubjects(b), succeed, nil, true)
}

// BenchmarkBreakerClosedSuccessParallel: BenchmarkBreakerClosedSuccess from
// GOMAXPROCS goroutines at once; run it with -cpu 1,2 to see how throughput
// scales.
func BenchmarkBreakerClosedSuccessParallel(b *testing.B) {
	ctx := context.Background()
	for _, s := range breakerSubjects(5 * time.Second) {
		b.Run("lib="+s.lib, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := s.do(ctx, succeed); err != nil {
						b.Errorf("%s: %v", s.lib, err)
						return
					}
				}
			})
		})
	}
}

// breakerBlock is how many calls BenchmarkBreakerWindowsPaired times as one
// block.
const breakerBlock = 256

// BenchmarkBreakerWindowsPaired: a closed breaker's success with a count
// window, with a time window and with slow-call timing, and one and two
// reads of the monotonic clock (time.Since), in blocks of breakerBlock
// calls taken in turn (see paired). DESIGN.md bounds the time window by the
// count window plus one clock read plus 10 ns, and slow-call timing by the
// count window plus two clock reads plus 10 ns: "time-over-bound" and
// "slowcall-over-bound" are each one's median minus its bound, met at or
// below zero.
func BenchmarkBreakerWindowsPaired(b *testing.B) {
	ctx := context.Background()
	count := breaker.New(breaker.Config{})
	timed := breaker.New(breaker.Config{Window: time.Minute})
	slow := breaker.New(breaker.Config{SlowCallDuration: time.Second})
	epoch := time.Now()
	var sink time.Duration
	med := paired(b, breakerBlock,
		pairedRun{"count", func() { _ = count.Do(ctx, succeed) }},
		pairedRun{"time", func() { _ = timed.Do(ctx, succeed) }},
		pairedRun{"slowcall", func() { _ = slow.Do(ctx, succeed) }},
		pairedRun{"since", func() { sink += time.Since(epoch) }},
		pairedRun{"since2", func() { sink += time.Since(epoch) + time.Since(epoch) }})
	if sink == 0 {
		b.Fatal("the clock did not move")
	}
	b.ReportMetric(med["time"]-(med["count"]+med["since"]+10), "time-over-bound")
	b.ReportMetric(med["slowcall"]-(med["count"]+med["since2"]+10), "slowcall-over-bound")
}
