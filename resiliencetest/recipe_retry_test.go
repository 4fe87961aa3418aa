package resiliencetest_test

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

// The retry recipe of the package documentation.
func TestRecipeRetryBacksOffExponentially(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec resiliencetest.Recorder
		p := resilience.Chain(
			retry.New(retry.Config{
				MaxAttempts: 4,
				Backoff:     backoff.Exponential(100*time.Millisecond, 2, time.Second),
				Observer:    &rec,
			}),
			&rec,                             // records each attempt and when it started
			resiliencetest.FailFirst(3, nil), // the dependency fails three times
		)
		err := p.Do(context.Background(), func(context.Context) error { return nil })

		require.NoError(t, err)
		want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}
		assert.Equal(t, want, rec.Delays()) // what the policy announced
		assert.Equal(t, want, rec.Gaps())   // what it actually waited
	})
}

func TestRecipeRetryGivesUpAfterMaxAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec resiliencetest.Recorder
		dep := resiliencetest.Always(resiliencetest.Fail(nil))
		p := resilience.Chain(
			retry.New(retry.Config{MaxAttempts: 3, Backoff: backoff.Constant(time.Second), Observer: &rec}),
			&rec,
			dep,
		)
		start := time.Now()
		err := p.Do(context.Background(), func(context.Context) error { return nil })

		assert.ErrorIs(t, err, retry.ErrExhausted)
		assert.ErrorIs(t, err, resiliencetest.ErrInjected)
		assert.Equal(t, 2*time.Second, time.Since(start))
		assert.Len(t, rec.Attempts(), 3)
		assert.Equal(t, 2, rec.Count(resilience.KindRetry))
		assert.Equal(t, 1, rec.Count(resilience.KindGiveUp))
		assert.Equal(t, 3, dep.Injected())
	})
}

// Retry, breaker and a failing dependency together: the breaker's rejection
// carries the time until it admits a probe, and the retry policy waits
// exactly that long instead of its own backoff.
func TestRecipeRetryWaitsForTheBreakerToAdmitAProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec resiliencetest.Recorder
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: 2 * time.Second, Observer: &rec})
		p := resilience.Chain(
			retry.New(retry.Config{MaxAttempts: 3, Backoff: backoff.Constant(10 * time.Millisecond), Observer: &rec}),
			b,
			&rec, // only the attempts the breaker let through
			resiliencetest.FailFirst(1, nil),
		)
		err := p.Do(context.Background(), func(context.Context) error { return nil })

		require.NoError(t, err)
		// The second wait is the breaker's hint, the rest of OpenFor, with
		// the retry policy's jitter of up to a tenth on top.
		delays := rec.Delays()
		require.Len(t, delays, 2)
		hint := 2*time.Second - 10*time.Millisecond
		assert.Equal(t, 10*time.Millisecond, delays[0])
		assert.GreaterOrEqual(t, delays[1], hint)
		assert.LessOrEqual(t, delays[1], hint+hint/10)
		assert.Equal(t, []time.Duration{10*time.Millisecond + delays[1]}, rec.Gaps(), "the probe came once the hint had passed, never before")
		assert.Equal(t, 1, rec.Count(resilience.KindRejected))
		assert.Equal(t, breaker.Closed, b.State())
	})
}
