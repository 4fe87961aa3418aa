package resilience_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/retry"
	"github.com/magicmagnets/resilience/timeout"
)

// The recommended order: a total deadline, then retries, each attempt
// guarded by the breaker and its own timeout.
func ExampleChain() {
	policy := resilience.Chain(
		timeout.New(5*time.Second),
		retry.New(retry.Config{MaxAttempts: 3, Backoff: backoff.Constant(time.Millisecond)}),
		breaker.New(breaker.Config{}),
		timeout.New(time.Second),
	)
	calls := 0
	err := policy.Do(context.Background(), func(ctx context.Context) error {
		calls++
		if calls < 3 {
			return errors.New("connection reset")
		}
		return nil
	})
	fmt.Println(calls, err)
	// Output: 3 <nil>
}

// DoValue returns the value of the attempt that succeeded.
func ExampleDoValue() {
	policy := retry.New(retry.Config{Backoff: backoff.Constant(0)})
	rate, err := resilience.DoValue(context.Background(), policy, func(ctx context.Context) (float64, error) {
		if retry.Attempt(ctx) == 1 {
			return 0, errors.New("timeout")
		}
		return 1.0842, nil
	})
	fmt.Println(rate, err)
	// Output: 1.0842 <nil>
}

// A PolicyFunc turns a function into a policy, here one that logs each call.
func ExamplePolicyFunc() {
	logged := resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error {
		fmt.Println("calling")
		err := fn(ctx)
		fmt.Println("returned", err)
		return err
	})
	_ = resilience.Chain(logged).Do(context.Background(), func(context.Context) error { return nil })
	// Output:
	// calling
	// returned <nil>
}

// SlogObserver writes every event of a policy to a slog.Logger.
func ExampleSlogObserver() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "duration" {
				return slog.Attr{} // drop the time and the call's duration so the output is stable
			}
			return a
		},
	}))
	policy := retry.New(retry.Config{
		MaxAttempts: 2,
		Backoff:     backoff.Constant(time.Millisecond),
		Name:        "rates",
		Observer:    resilience.SlogObserver(logger),
	})
	_ = policy.Do(context.Background(), func(context.Context) error { return errors.New("503") })
	// Output:
	// level=DEBUG msg="resilience event" policy=retry kind=retry name=rates attempt=1 delay=1ms error=503
	// level=WARN msg="resilience event" policy=retry kind=give_up name=rates attempt=2 error=503
	// level=DEBUG msg="resilience event" policy=retry kind=call name=rates attempt=2 error="retry: gave up after 2 attempts: 503"
}
