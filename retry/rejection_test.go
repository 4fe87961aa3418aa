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
	"github.com/magicmagnets/resilience/bulkhead"
	"github.com/magicmagnets/resilience/ratelimit"
	"github.com/magicmagnets/resilience/retry"
)

// The rejection contract: retry waits a rejection's hint only when the wait
// ends before the caller's deadline; otherwise it gives up at once, leaving
// the remaining time to a fallback.

func TestRejectionHintPastTheDeadlineGivesUpAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		rejection := &ratelimit.LimitedError{Wait: 2 * time.Second}
		calls := 0
		start := time.Now()
		err := retry.New(retry.Config{MaxAttempts: 5}).Do(ctx, func(context.Context) error { calls++; return rejection })
		assert.Zero(t, time.Since(start), "no sleep towards a deadline the wait would pass")
		assert.Equal(t, 1, calls)
		assert.ErrorIs(t, err, retry.ErrExhausted)
		assert.ErrorIs(t, err, ratelimit.ErrLimited)
		assert.ErrorIs(t, err, resilience.ErrRejected)
		var ex *retry.ExhaustedError
		require.ErrorAs(t, err, &ex)
		assert.GreaterOrEqual(t, ex.Delay, 2*time.Second, "the declined wait is the hint (plus its jitter)")
	})
}

func TestRejectionHintBeforeTheDeadlineIsWaitedAndRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		calls := 0
		start := time.Now()
		err := retry.New(retry.Config{MaxAttempts: 5}).Do(ctx, func(context.Context) error {
			calls++
			if calls == 1 {
				return &ratelimit.LimitedError{Wait: 500 * time.Millisecond}
			}
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, 2, calls)
		took := time.Since(start)
		assert.GreaterOrEqual(t, took, 500*time.Millisecond, "the hint is waited")
		assert.Less(t, took, 550*time.Millisecond, "plus at most a tenth of it")
	})
}

// TestRetryAroundARealRateLimit: the same, end to end, with the limiter's
// own refusal and its time until a token.
func TestRetryAroundARealRateLimit(t *testing.T) {
	for _, tc := range []struct {
		rate    float64 // per second; the wait for the next token is 1/rate
		wantRan int     // the first attempt is refused without running fn
		wantErr bool
	}{
		{rate: 2, wantRan: 1},                  // 500ms to the next token: waited
		{rate: 0.5, wantRan: 0, wantErr: true}, // 2s: past the 1s deadline
	} {
		synctest.Test(t, func(t *testing.T) {
			lim := ratelimit.New(ratelimit.Config{Rate: tc.rate})
			require.NoError(t, lim.Do(t.Context(), func(context.Context) error { return nil }), "spend the token")
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			defer cancel()
			calls := 0
			start := time.Now()
			err := resilience.Chain(retry.New(retry.Config{MaxAttempts: 5}), lim).Do(ctx, func(context.Context) error {
				calls++
				return nil
			})
			assert.Equal(t, tc.wantRan, calls, "rate %v", tc.rate)
			if tc.wantErr {
				assert.ErrorIs(t, err, retry.ErrExhausted)
				assert.ErrorIs(t, err, ratelimit.ErrLimited)
				assert.Zero(t, time.Since(start))
			} else {
				assert.NoError(t, err)
				assert.GreaterOrEqual(t, time.Since(start), 500*time.Millisecond)
			}
		})
	}
}

// TestFullBulkheadHasNoHintAndIsRetriedAfterBackoff: a bulkhead's refusal
// carries no hint, so retry waits its own backoff before the next try.
func TestFullBulkheadHasNoHintAndIsRetriedAfterBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bh := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
		held, err := bh.Allow()
		require.NoError(t, err)
		go func() {
			time.Sleep(time.Millisecond)
			held.Done()
		}()
		calls := 0
		p := resilience.Chain(retry.New(retry.Config{MaxAttempts: 50, Backoff: backoff.Constant(10 * time.Millisecond)}), bh)
		start := time.Now()
		err = p.Do(t.Context(), func(context.Context) error { calls++; return nil })
		require.NoError(t, err)
		assert.Equal(t, 1, calls)
		assert.Equal(t, 10*time.Millisecond, time.Since(start), "one backoff, then the slot was free")
	})
}
