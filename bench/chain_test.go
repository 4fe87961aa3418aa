package bench

import (
	"context"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/failsafe-go/failsafe-go/retrypolicy"
	fstimeout "github.com/failsafe-go/failsafe-go/timeout"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/retry"
	"github.com/magicmagnets/resilience/timeout"
)

// chainTimeout is the total deadline of every chain subject.
const chainTimeout = time.Second

// chainSubjects returns a total timeout, then retries, then a breaker
// around each attempt, through ours and failsafe-go, and the two baselines:
// context.WithTimeout with its cancel, and a bare call.
func chainSubjects() []subject {
	return []subject{
		{"resilience", ourChain().Do},
		{"failsafe", failsafeChain()},
		{"withtimeout", withTimeout},
		{"call", bareCall},
	}
}

func ourChain() resilience.Policy {
	return resilience.Chain(
		timeout.New(chainTimeout),
		retry.New(retry.Config{MaxAttempts: retryAttempts, Backoff: backoff.Constant(0)}),
		breaker.New(breaker.Config{}),
	)
}

// failsafeChain: With(timeout, retry policy, circuit breaker), configured as
// failsafeRetry and failsafeBreaker. The operation needs the timeout's
// context, which failsafe-go hands over in the Execution.
func failsafeChain() func(context.Context, resilience.Func) error {
	ex := failsafe.With[any](
		fstimeout.New[any](chainTimeout),
		retrypolicy.NewBuilder[any]().WithMaxAttempts(retryAttempts).Build(),
		circuitbreaker.NewBuilder[any]().WithFailureThresholdRatio(50, 100).WithDelay(5*time.Second).Build(),
	)
	return func(_ context.Context, op resilience.Func) error {
		return ex.RunWithExecution(func(e failsafe.Execution[any]) error { return op(e.Context()) })
	}
}

// withTimeout is the floor any Go caller pays for a deadline.
func withTimeout(ctx context.Context, op resilience.Func) error {
	ctx, cancel := context.WithTimeout(ctx, chainTimeout)
	err := op(ctx)
	cancel()
	return err
}

// bareCall is the cost of the harness itself: one call through a func value.
func bareCall(ctx context.Context, op resilience.Func) error { return op(ctx) }

// BenchmarkChain: Chain(timeout, retry, breaker) around an operation that
// succeeds, against failsafe-go's same chain and the baselines.
func BenchmarkChain(b *testing.B) {
	run(b, chainSubjects(), succeed, nil, false)
}

// chainBlock is how many calls BenchmarkChainPaired times as one block.
const chainBlock = 64

// BenchmarkChainPaired: the call of BenchmarkChain through our chain,
// failsafe-go's and a bare context.WithTimeout, in blocks of chainBlock
// calls taken in turn (see paired). It reports each one's median time per
// call and ours as a multiple of WithTimeout's and of failsafe-go's
// ("x-withtimeout", "x-failsafe"): DESIGN.md's targets are at most 1.2 and
// at most 1/3.
func BenchmarkChainPaired(b *testing.B) {
	var runs []pairedRun
	ctx := context.Background()
	for _, s := range chainSubjects() {
		if s.lib == "call" {
			continue
		}
		runs = append(runs, pairedRun{s.lib, func() {
			if err := s.do(ctx, succeed); err != nil {
				b.Fatal(err)
			}
		}})
	}
	med := paired(b, chainBlock, runs...)
	b.ReportMetric(med["resilience"]/med["withtimeout"], "x-withtimeout")
	b.ReportMetric(med["resilience"]/med["failsafe"], "x-failsafe")
}
