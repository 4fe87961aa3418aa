package breaker_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/retry"
)

func TestRetryAroundBreakerWaitsOutOpenForInsteadOfHammering(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: 5 * time.Second})
		rec := &recorder{}
		r := retry.New(retry.Config{MaxAttempts: 10, Backoff: backoff.Constant(10 * time.Millisecond), Observer: rec})
		calls := 0
		start := time.Now()

		err := resilience.Chain(r, b).Do(t.Context(), func(context.Context) error {
			calls++
			if calls == 1 {
				return errBoom
			}
			return nil
		})

		assert.NoError(t, err)
		assert.Equal(t, 2, calls, "one failure, then the probe")
		var delays []time.Duration
		for _, e := range rec.kinds(resilience.KindRetry) {
			delays = append(delays, e.Delay)
		}
		assert.Equal(t, []time.Duration{10 * time.Millisecond, 5*time.Second - 10*time.Millisecond}, delays,
			"the wait after the rejection is the breaker's RetryAfter")
		assert.Equal(t, 5*time.Second, time.Since(start))
		assert.Equal(t, breaker.Closed, b.State())
	})
}

func TestPermanentErrorsStillCountAsBreakerFailures(t *testing.T) {
	b := breaker.New(breaker.Config{ConsecutiveFailures: 1})
	r := retry.New(retry.Config{})

	err := resilience.Chain(r, b).Do(t.Context(), func(context.Context) error { return retry.Permanent(errBoom) })

	assert.ErrorIs(t, err, errBoom)
	assert.Equal(t, breaker.Open, b.State())
}
