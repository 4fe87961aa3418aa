package bench

import (
	"context"
	"errors"
	"testing"

	"go.uber.org/goleak"

	"github.com/magicmagnets/resilience"
)

// TestMain checks that no goroutine outlives the tests, except the one
// eapache's breaker starts each time it opens: it sleeps for the whole open
// period (an hour in BenchmarkBreakerOpenRejection) and cannot be stopped.
// Ours moves from Open to HalfOpen lazily and starts none.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/eapache/go-resiliency/breaker.(*Breaker).timer"))
}

// subject is one library's way of running an operation under a policy. The
// policy is built once, outside the benchmark loop; do runs one call.
//
// Our Func takes the context, so do passes op itself. Peers whose operation
// takes no context get a closure that captures ctx, made on each call, as
// their users write it.
type subject struct {
	lib string
	do  func(ctx context.Context, op resilience.Func) error
}

var errFlaky = errors.New("bench: flaky")

// succeed is the operation of the success cases: it does nothing and works.
func succeed(context.Context) error { return nil }

// flaky returns an operation that fails until its nth call and a reset
// func that starts it over. Both are made once, so a benchmark loop that
// resets and runs it allocates nothing of its own.
func flaky(n int) (op resilience.Func, calls *int) {
	calls = new(int)
	op = func(context.Context) error {
		*calls++
		if *calls < n {
			return errFlaky
		}
		return nil
	}
	return op, calls
}

// run benchmarks each subject as a sub-benchmark named lib=<name>. reset,
// when not nil, runs before each call; every call must fail if wantErr and
// succeed otherwise, so that a misconfigured peer stops the benchmark.
func run(b *testing.B, subjects []subject, op resilience.Func, reset func(), wantErr bool) {
	ctx := context.Background()
	for _, s := range subjects {
		b.Run("lib="+s.lib, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if reset != nil {
					reset()
				}
				if err := s.do(ctx, op); (err != nil) != wantErr {
					b.Fatalf("%s: unexpected result %v", s.lib, err)
				}
			}
		})
	}
}
