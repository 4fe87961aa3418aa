package retry_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/retry"
	"github.com/magicmagnets/resilience/timeout"
)

// TestDoneContextRunsNothing: a context that is already done runs nothing;
// Do returns its error.
func TestDoneContextRunsNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	calls := 0
	budget := retry.NewBudget(retry.BudgetConfig{})
	err := retry.New(retry.Config{Budget: budget}).Do(ctx, func(context.Context) error { calls++; return nil })
	assert.Zero(t, calls)
	assert.Same(t, context.Canceled, err)
}

// TestWaitPastDeadlineGivesUpAtOnce: with a 1s deadline and a 5s backoff,
// the policy does not wait out the second; it gives up at once with the last
// error.
func TestWaitPastDeadlineGivesUpAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		start := time.Now()
		rec, err := doFailing(ctx, retry.New(retry.Config{Backoff: backoff.Constant(5 * time.Second)}), 10, errFlaky)
		assert.Zero(t, time.Since(start))
		assert.Len(t, rec.Attempts(), 1)
		assert.ErrorIs(t, err, retry.ErrExhausted)
		assert.ErrorIs(t, err, errFlaky)
		var ex *retry.ExhaustedError
		require.ErrorAs(t, err, &ex)
		assert.Equal(t, 5*time.Second, ex.Delay, "the wait it declined")
		assert.Equal(t, 1, ex.Attempts)
	})
}

// TestOpenBreakerHintUnderShorterTimeoutReturnsAtOnce: an open breaker's 30s
// RetryAfter under an outer 3s timeout, as in the README's chain: the policy
// gives up at once instead of sleeping until the timeout fires.
func TestOpenBreakerHintUnderShorterTimeoutReturnsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: 30 * time.Second})
		p := resilience.Chain(timeout.New(3*time.Second), retry.New(retry.Config{MaxAttempts: 5}), b)
		calls := 0
		start := time.Now()
		err := p.Do(t.Context(), func(context.Context) error { calls++; return errFlaky })
		assert.Equal(t, 1, calls, "the first attempt trips the breaker, the second is rejected")
		assert.LessOrEqual(t, time.Since(start), 100*time.Millisecond, "only the first backoff (at most 100ms) is waited")
		assert.ErrorIs(t, err, retry.ErrExhausted)
		assert.ErrorIs(t, err, breaker.ErrOpen)
		assert.NotErrorIs(t, err, timeout.ErrTimeout)
	})
}

// TestDayLongRetryAfterUnderTwoSecondBudgetReturnsAtOnce: a server's
// Retry-After: 86400 under a 2s budget, even with no cap on delays.
func TestDayLongRetryAfterUnderTwoSecondBudgetReturnsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, maxDelay := range []time.Duration{0, backoff.MaxDuration} {
			p := resilience.Chain(timeout.New(2*time.Second), retry.New(retry.Config{MaxDelay: maxDelay}))
			calls := 0
			start := time.Now()
			err := p.Do(t.Context(), func(context.Context) error { calls++; return hinted{86400 * time.Second} })
			assert.Equal(t, 1, calls)
			assert.Zero(t, time.Since(start), "MaxDelay %v", maxDelay)
			assert.ErrorIs(t, err, retry.ErrExhausted)
			assert.ErrorIs(t, err, hinted{86400 * time.Second})
		}
	})
}

// TestDeadlineExactlyAtDelayEndStartsNoAttempt: a wait that would end
// exactly at the deadline is not started, since no attempt could start then.
func TestDeadlineExactlyAtDelayEndStartsNoAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		start := time.Now()
		p := retry.New(retry.Config{MaxAttempts: 5, Backoff: backoff.Constant(time.Second)})
		rec, err := doFailing(ctx, p, 10, errFlaky)
		assert.Len(t, rec.Attempts(), 2, "attempts at 0s and 1s; none at 2s, the deadline")
		assert.Equal(t, time.Second, time.Since(start))
		assert.ErrorIs(t, err, retry.ErrExhausted)
		assert.ErrorIs(t, err, errFlaky)
	})
}

// TestCancelDuringAttemptStartsNoOther: a context cancelled while an
// attempt runs, whose error does not show it, starts no further attempt.
func TestCancelDuringAttemptStartsNoOther(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		calls := 0
		err := retry.New(retry.Config{MaxAttempts: 5, Backoff: backoff.Constant(0)}).Do(ctx, func(context.Context) error {
			calls++
			cancel()
			return errFlaky
		})
		assert.Equal(t, 1, calls)
		assert.ErrorIs(t, err, context.Canceled)
		assert.ErrorIs(t, err, errFlaky)
	})
}

// TestHugeHintDoesNotOverflowMaxElapsed: with no cap on delays, a hint of
// the largest duration after a slow first attempt once wrapped
// elapsed+delay negative and was waited. It gives up at once.
func TestHugeHintDoesNotOverflowMaxElapsed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := retry.New(retry.Config{MaxAttempts: -1, MaxDelay: backoff.MaxDuration, MaxElapsed: time.Minute, Rand: fixedRand(0.99)})
		calls := 0
		start := time.Now()
		err := p.Do(t.Context(), func(context.Context) error {
			calls++
			time.Sleep(time.Second) // a slow attempt
			return hinted{backoff.MaxDuration}
		})
		assert.Equal(t, 1, calls)
		assert.Equal(t, time.Second, time.Since(start))
		assert.ErrorIs(t, err, retry.ErrExhausted)
		var ex *retry.ExhaustedError
		require.ErrorAs(t, err, &ex)
		assert.Equal(t, backoff.MaxDuration, ex.Delay, "the hint plus its jitter saturates")
		assert.Contains(t, err.Error(), "would end after MaxElapsed")
	})
}

// TestWaitEndingAtMaxElapsedIsWaited: MaxElapsed bounds when a wait may end,
// inclusively (unlike a deadline, an attempt can start at MaxElapsed).
func TestWaitEndingAtMaxElapsedIsWaited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := retry.New(retry.Config{MaxAttempts: -1, Backoff: backoff.Constant(time.Second), MaxElapsed: 2 * time.Second})
		rec, err := doFailing(t.Context(), p, 10, errFlaky)
		assert.Len(t, rec.Attempts(), 3, "attempts at 0s, 1s and 2s")
		assert.ErrorIs(t, err, retry.ErrExhausted)
	})
}
