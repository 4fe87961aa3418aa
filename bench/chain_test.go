package bench

import (
	"context"
	"slices"
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
// A block of a few tens of microseconds keeps the two clock reads around it
// below a per-mille of what it measures.
const chainBlock = 64

// BenchmarkChainPaired: the call of BenchmarkChain through our chain,
// failsafe-go's and a bare context.WithTimeout in turn, a block of
// chainBlock calls each, the order rotated every block. It reports each
// subject's median time per call ("resilience-ns/call" and so on) and ours
// as a multiple of WithTimeout's and of failsafe-go's ("x-withtimeout",
// "x-failsafe"). BenchmarkChain runs its subjects one after the other, so
// each meets the heap and the timer heap its predecessor left behind;
// blocks microseconds apart meet the same ones, and a median ignores the
// blocks a busy machine or a collection stalls. ns/op is one block through
// every subject.
func BenchmarkChainPaired(b *testing.B) {
	all := chainSubjects()
	subjects := all[:0:0]
	for _, s := range all {
		if s.lib != "call" {
			subjects = append(subjects, s)
		}
	}
	times := make([][]time.Duration, len(subjects))
	ctx := context.Background()
	block := func(do func(context.Context, resilience.Func) error) time.Duration {
		start := time.Now()
		for range chainBlock {
			if err := do(ctx, succeed); err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(start)
	}
	b.ReportAllocs()
	for n := 0; b.Loop(); n++ {
		for k := range subjects {
			i := (n + k) % len(subjects)
			times[i] = append(times[i], block(subjects[i].do))
		}
	}
	med := map[string]float64{}
	for i, s := range subjects {
		slices.Sort(times[i])
		med[s.lib] = float64(times[i][len(times[i])/2]) / chainBlock
		b.ReportMetric(med[s.lib], s.lib+"-ns/call")
	}
	b.ReportMetric(med["resilience"]/med["withtimeout"], "x-withtimeout")
	b.ReportMetric(med["resilience"]/med["failsafe"], "x-failsafe")
}
