package breaker_test

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
	"github.com/magicmagnets/resilience/resiliencetest"
	"github.com/magicmagnets/resilience/retry"
)

func TestRetryAroundBreakerWaitsOutOpenForInsteadOfHammering(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: 5 * time.Second})
		rec := &resiliencetest.Recorder{}
		r := retry.New(retry.Config{MaxAttempts: 10, Backoff: backoff.Constant(10 * time.Millisecond), Observer: rec})
		dep := resiliencetest.FailFirst(1, errBoom)
		start := time.Now()

		err := resilience.Chain(r, b, dep).Do(t.Context(), ok)

		assert.NoError(t, err)
		assert.Equal(t, 2, dep.Calls(), "one failure, then the probe")
		delays := rec.Delays()
		require.Len(t, delays, 2)
		assert.Equal(t, 10*time.Millisecond, delays[0])
		hint := 5*time.Second - 10*time.Millisecond
		assert.GreaterOrEqual(t, delays[1], hint, "the wait after the rejection is at least the breaker's RetryAfter")
		assert.Less(t, delays[1], hint+hint/10, "plus a little jitter")
		assert.Equal(t, 10*time.Millisecond+delays[1], time.Since(start))
		assert.Equal(t, breaker.Closed, b.State())
	})
}

func TestPermanentErrorsStillCountAsBreakerFailures(t *testing.T) {
	b := breaker.New(breaker.Config{ConsecutiveFailures: 1})
	r := retry.New(retry.Config{})

	err := resilience.Chain(r, b).Do(t.Context(), func(context.Context) error { return resilience.Permanent(errBoom) })

	assert.ErrorIs(t, err, errBoom)
	assert.Equal(t, breaker.Open, b.State())
}
