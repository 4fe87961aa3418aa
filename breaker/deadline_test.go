package breaker_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/resiliencetest"
	"github.com/magicmagnets/resilience/timeout"
)

// hang waits for its context to end and returns its error, wrapped.
func hang(ctx context.Context) error {
	<-ctx.Done()
	return fmt.Errorf("read: %w", ctx.Err())
}

func TestBreakerIgnoresCallerDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1})
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()

		err := b.Do(ctx, hang)

		assert.ErrorIs(t, err, context.DeadlineExceeded)
		m := b.Metrics()
		assert.Equal(t, breaker.Closed, m.State, "a short client budget does not trip a healthy dependency")
		assert.Equal(t, 0, m.Calls, "the call is not recorded at all")
	})
}

func TestCallerDeadlineEndingManyCallsNeverTrips(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{MinCalls: 5, WindowSize: 10})
		for range 50 {
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
			_ = b.Do(ctx, hang)
			cancel()
		}
		run(b, 1, ok)

		m := b.Metrics()
		assert.Equal(t, breaker.Closed, m.State)
		assert.Equal(t, 1, m.Calls)
	})
}

func TestCallerDeadlineOnAProbeFreesItsSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := halfOpen(t, 1)
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()

		_ = b.Do(ctx, hang)

		require.Equal(t, breaker.HalfOpen, b.State())
		assert.Equal(t, 0, b.Metrics().Probes)
		assert.Equal(t, 1, run(b, 1, ok), "the next probe is admitted")
		assert.Equal(t, breaker.Closed, b.State())
	})
}

func TestCallerDeadlinePastSlowCallDurationStillCountsAsSlow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &resiliencetest.Recorder{}
		b := breaker.New(breaker.Config{MinCalls: 1, SlowCallDuration: time.Second, Observer: rec})
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()

		_ = b.Do(ctx, hang)

		m := b.Metrics()
		assert.Equal(t, 1, m.Calls)
		assert.Equal(t, 1, m.SlowCalls)
		assert.Equal(t, 0, m.Failures, "slow, not failed")
		assert.Equal(t, breaker.Open, m.State, "one slow call of one reaches SlowCallRate 1.0")
		slow := ofKind(rec, resilience.KindSlowCall)
		require.Len(t, slow, 1)
		assert.Equal(t, 2*time.Second, slow[0].Duration)
	})
}

func TestCallerCancelPastSlowCallDurationStillCountsAsSlow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1, SlowCallDuration: time.Second, SlowCallRate: 0.5, MinCalls: 4})
		run(b, 3, ok)
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(3*time.Second, cancel)

		_ = b.Do(ctx, hang)

		m := b.Metrics()
		assert.Equal(t, 4, m.Calls)
		assert.Equal(t, 1, m.SlowCalls)
		assert.Equal(t, 0, m.Failures)
		assert.Equal(t, breaker.Closed, m.State, "ConsecutiveFailures 1 is not reached: the cancelled call did not fail")
	})
}

func TestCallerDeadlineBeforeSlowCallDurationIsNotRecorded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{SlowCallDuration: time.Second})
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		defer cancel()

		_ = b.Do(ctx, hang)

		assert.Equal(t, 0, b.Metrics().Calls)
	})
}

func TestCallerEndDoesNotResetConsecutiveFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{ConsecutiveFailures: 2, SlowCallDuration: time.Second})
		run(b, 1, boom)
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		_ = b.Do(ctx, hang) // slow, not a success
		require.Equal(t, 1, b.Metrics().ConsecutiveFailures)

		run(b, 1, boom)

		assert.Equal(t, breaker.Open, b.State())
	})
}

func TestPermitDoneCountsDeadlineExceededAsFailure(t *testing.T) {
	b := breaker.New(breaker.Config{ConsecutiveFailures: 1})
	p, err := b.Allow()
	require.NoError(t, err)

	p.Done(fmt.Errorf("read: %w", context.DeadlineExceeded))

	assert.Equal(t, breaker.Open, b.State(), "Done sees no context: it cannot tell whose deadline passed")
}

func TestHangIsCountedThroughPerAttemptTimeoutInsideBreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1})
		p := resilience.Chain(b, timeout.New(time.Second))
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()

		err := p.Do(ctx, hang)

		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, breaker.Open, b.State(), "the per-attempt deadline is not the caller's: the hang is a failure")
	})
}

func TestErrorMatchingDeadlineBeforeCallersDeadlineIsAFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1})
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		defer cancel()

		_ = b.Do(ctx, func(context.Context) error { return context.DeadlineExceeded })

		assert.Equal(t, breaker.Open, b.State(), "the caller's context had not ended")
	})
}
