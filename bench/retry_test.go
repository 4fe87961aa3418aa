package bench

import (
	"context"
	"testing"
	"time"

	avast "github.com/avast/retry-go/v4"
	cenkalti "github.com/cenkalti/backoff/v5"
	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/retrypolicy"
	sethvargo "github.com/sethvargo/go-retry"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/retry"
)

// retryAttempts is the attempt limit of every retry subject: the first
// attempt and two retries, all without delay.
const retryAttempts = 3

// retrySubjects returns the retry policies compared, each allowing
// retryAttempts attempts with zero delay between them.
func retrySubjects() []subject {
	return []subject{
		{"resilience", ourRetry().Do},
		{"failsafe", failsafeRetry()},
		{"cenkalti", cenkaltiRetry()},
		{"avast", avastRetry()},
		{"sethvargo", sethvargoRetry()},
	}
}

func ourRetry() *retry.Policy {
	return retry.New(retry.Config{MaxAttempts: retryAttempts, Backoff: backoff.Constant(0)})
}

// failsafeRetry: a retry policy with three attempts; failsafe-go's default
// delay is zero. The executor is built once with the background context, so
// it is spared the per-request WithContext copy a server would make.
func failsafeRetry() func(context.Context, resilience.Func) error {
	ex := failsafe.With[any](retrypolicy.NewBuilder[any]().WithMaxAttempts(retryAttempts).Build())
	return func(ctx context.Context, op resilience.Func) error {
		return ex.Run(func() error { return op(ctx) })
	}
}

// cenkaltiRetry: backoff.Retry with ZeroBackOff and three tries. The options
// are built once; Retry takes the context per call.
func cenkaltiRetry() func(context.Context, resilience.Func) error {
	opts := []cenkalti.RetryOption{cenkalti.WithBackOff(&cenkalti.ZeroBackOff{}), cenkalti.WithMaxTries(retryAttempts)}
	return func(ctx context.Context, op resilience.Func) error {
		_, err := cenkalti.Retry(ctx, func() (struct{}, error) { return struct{}{}, op(ctx) }, opts...)
		return err
	}
}

// avastRetry: retry.Do with three attempts, a fixed zero delay (the default
// delay type adds up to 100ms of random jitter) and only the last error
// returned, as ours does. The fixed options are built once; the context is
// an option, so that one is made per call.
func avastRetry() func(context.Context, resilience.Func) error {
	fixed := [...]avast.Option{
		avast.Attempts(retryAttempts),
		avast.Delay(0),
		avast.DelayType(avast.FixedDelay),
		avast.LastErrorOnly(true),
	}
	return func(ctx context.Context, op resilience.Func) error {
		opts := [len(fixed) + 1]avast.Option{fixed[0], fixed[1], fixed[2], fixed[3], avast.Context(ctx)}
		return avast.Do(func() error { return op(ctx) }, opts[:]...)
	}
}

// sethvargoRetry: retry.Do with a zero constant backoff limited to two
// retries. Its backoffs are stateful (WithMaxRetries counts), so one is made
// per call, as its documentation requires; NewConstant refuses zero, so the
// zero backoff is a BackoffFunc. Errors must be marked retryable.
func sethvargoRetry() func(context.Context, resilience.Func) error {
	zero := sethvargo.BackoffFunc(func() (time.Duration, bool) { return 0, false })
	return func(ctx context.Context, op resilience.Func) error {
		b := sethvargo.WithMaxRetries(retryAttempts-1, zero)
		return sethvargo.Do(ctx, b, func(ctx context.Context) error {
			if err := op(ctx); err != nil {
				return sethvargo.RetryableError(err)
			}
			return nil
		})
	}
}

// BenchmarkRetrySuccess: the operation succeeds on the first attempt.
func BenchmarkRetrySuccess(b *testing.B) {
	run(b, retrySubjects(), succeed, nil, false)
}

// BenchmarkRetryThirdAttempt: the operation fails twice and succeeds on the
// third attempt, with no delay between attempts.
func BenchmarkRetryThirdAttempt(b *testing.B) {
	op, calls := flaky(retryAttempts)
	run(b, retrySubjects(), op, func() { *calls = 0 }, false)
}
