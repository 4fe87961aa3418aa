package breaker_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/breaker"
)

func TestOpenBreakerRejectsWithoutRunning(t *testing.T) {
	b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: time.Hour})
	run(b, 1, boom)

	ran := run(b, 5, ok)

	assert.Zero(t, ran)
	err := b.Do(t.Context(), ok)
	assert.ErrorIs(t, err, breaker.ErrOpen)
	assert.EqualError(t, err, "breaker: circuit open")
}

func TestRetryAfterIsTimeUntilProbeAndCallThenIsAdmitted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: 5 * time.Second})
		run(b, 1, boom)
		time.Sleep(2 * time.Second)

		err := b.Do(t.Context(), ok)
		require.ErrorIs(t, err, breaker.ErrOpen)
		wait := retryAfter(t, err)
		assert.Equal(t, 3*time.Second, wait)

		time.Sleep(wait - time.Nanosecond)
		err = b.Do(t.Context(), ok)
		require.ErrorIs(t, err, breaker.ErrOpen, "one nanosecond early")
		assert.Equal(t, time.Nanosecond, retryAfter(t, err))

		time.Sleep(time.Nanosecond)
		var stateDuringProbe breaker.State
		err = b.Do(t.Context(), func(context.Context) error {
			stateDuringProbe = b.State()
			return nil
		})
		assert.NoError(t, err)
		assert.Equal(t, breaker.HalfOpen, stateDuringProbe)
		assert.Equal(t, breaker.Closed, b.State())
	})
}

func TestRetryAfterOfKeptErrorCountsDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: 5 * time.Second})
		run(b, 1, boom)
		err := b.Do(t.Context(), ok)

		time.Sleep(4 * time.Second)
		assert.Equal(t, time.Second, retryAfter(t, err))
		time.Sleep(time.Hour)
		assert.Equal(t, time.Duration(0), retryAfter(t, err))
	})
}

func TestStateTurnsHalfOpenOnceOpenForHasElapsed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: time.Second})
		run(b, 1, boom)
		time.Sleep(time.Second - 1)
		require.Equal(t, breaker.Open, b.State())

		time.Sleep(time.Nanosecond) // exactly OpenFor after the trip

		assert.Equal(t, breaker.HalfOpen, b.State())
	})
}

func TestOpenForDoublesOnRepeatedTripsUpToMaxOpenFor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: time.Second, MaxOpenFor: 5 * time.Second})
		run(b, 1, boom)

		var waits []time.Duration
		for range 5 {
			wait := retryAfter(t, b.Do(t.Context(), ok))
			waits = append(waits, wait)
			time.Sleep(wait)
			run(b, 1, boom) // the probe fails
		}

		assert.Equal(t, []time.Duration{
			1 * time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second,
		}, waits)
		assert.Equal(t, 5*time.Second, b.Metrics().OpenFor)
	})
}

func TestOpenForResetsAfterSuccessfulClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: time.Second, MaxOpenFor: time.Minute})
		run(b, 1, boom)
		time.Sleep(time.Second)
		run(b, 1, boom) // probe fails: 2s
		time.Sleep(2 * time.Second)
		run(b, 1, ok) // probe succeeds: closed
		require.Equal(t, breaker.Closed, b.State())

		run(b, 1, boom)

		assert.Equal(t, time.Second, retryAfter(t, b.Do(t.Context(), ok)))
	})
}

func TestOpenBreakerWithoutDoublingKeepsOpenFor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: 3 * time.Second})
		run(b, 1, boom)
		time.Sleep(3 * time.Second)
		run(b, 1, boom)

		assert.Equal(t, 3*time.Second, retryAfter(t, b.Do(t.Context(), ok)))
	})
}
