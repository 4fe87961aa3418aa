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

func TestBreakerTripsWhenFailureRateReached(t *testing.T) {
	b := breaker.New(breaker.Config{WindowSize: 10, MinCalls: 10, FailureRate: 0.3})
	run(b, 7, ok)
	run(b, 2, boom)
	require.Equal(t, breaker.Closed, b.State())

	run(b, 1, boom) // 3 of 10: exactly the rate

	assert.Equal(t, breaker.Open, b.State())
}

func TestBreakerStaysClosedBelowFailureRate(t *testing.T) {
	b := breaker.New(breaker.Config{WindowSize: 10, MinCalls: 10, FailureRate: 0.3})
	for range 10 {
		run(b, 8, ok)
		run(b, 2, boom)
	}
	assert.Equal(t, breaker.Closed, b.State())
	assert.InDelta(t, 0.2, b.Metrics().FailureRate, 1e-9)
}

func TestBreakerDoesNotTripBeforeMinCalls(t *testing.T) {
	b := breaker.New(breaker.Config{MinCalls: 5})
	run(b, 4, boom)

	assert.Equal(t, breaker.Closed, b.State())
	assert.Equal(t, 1.0, b.Metrics().FailureRate)
}

func TestBreakerTripsOnConsecutiveFailuresBeforeMinCalls(t *testing.T) {
	b := breaker.New(breaker.Config{ConsecutiveFailures: 3})
	run(b, 2, boom)
	run(b, 1, ok) // breaks the run
	run(b, 2, boom)
	require.Equal(t, breaker.Closed, b.State())

	run(b, 1, boom)

	assert.Equal(t, breaker.Open, b.State())
}

func TestBreakerTripsWhenSlowCallRateReached(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{MinCalls: 4, SlowCallDuration: time.Second, SlowCallRate: 0.5})
		sleepy := func(d time.Duration) func(context.Context) error {
			return func(context.Context) error { time.Sleep(d); return nil }
		}
		run(b, 2, sleepy(time.Second)) // exactly the duration is not slow
		run(b, 1, sleepy(time.Second+time.Nanosecond))
		require.Equal(t, breaker.Closed, b.State())
		require.Equal(t, 1, b.Metrics().SlowCalls)

		run(b, 1, sleepy(2*time.Second)) // 2 of 4 slow

		assert.Equal(t, breaker.Open, b.State())
		assert.Equal(t, 0, b.Metrics().Failures, "slow successes are not failures")
	})
}

func TestBreakerIgnoresSlowCallsWhenTimingIsOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{MinCalls: 1})
		run(b, 3, func(context.Context) error { time.Sleep(time.Hour); return nil })

		assert.Equal(t, breaker.Closed, b.State())
		assert.Equal(t, 0, b.Metrics().SlowCalls)
	})
}

func TestCountWindowForgetsOutcomesOlderThanWindowSize(t *testing.T) {
	b := breaker.New(breaker.Config{WindowSize: 10, MinCalls: 10, FailureRate: 0.5})
	run(b, 4, boom)
	run(b, 10, ok) // pushes the failures out
	require.Equal(t, 0, b.Metrics().Failures)

	run(b, 4, boom)

	m := b.Metrics()
	assert.Equal(t, breaker.Closed, m.State, "4 of the last 10 failed")
	assert.Equal(t, 10, m.Calls)
	assert.Equal(t, 4, m.Failures)
	run(b, 1, boom)
	assert.Equal(t, breaker.Open, b.State(), "5 of the last 10 failed")
}

func TestTimeWindowTripsOnFailuresWithinWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{Window: 10 * time.Second, MinCalls: 4})
		for range 3 {
			run(b, 1, boom)
			time.Sleep(3 * time.Second)
		}
		require.Equal(t, breaker.Closed, b.State())

		run(b, 1, boom) // at 9s, all four are in the window

		assert.Equal(t, breaker.Open, b.State())
	})
}

func TestTimeWindowExpiresBucketsAsTheWindowSlides(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{Window: 10 * time.Second, MinCalls: 100})
		run(b, 2, boom) // bucket [0s, 1s)
		time.Sleep(5 * time.Second)
		run(b, 3, ok) // bucket [5s, 6s)
		time.Sleep(5*time.Second - time.Nanosecond)
		require.Equal(t, 5, b.Metrics().Calls, "at 10s-1ns the first bucket is still in")

		time.Sleep(time.Nanosecond)
		m := b.Metrics()
		assert.Equal(t, 3, m.Calls, "at 10s the first bucket has expired")
		assert.Equal(t, 0, m.Failures)

		time.Sleep(5 * time.Second)
		assert.Equal(t, 0, b.Metrics().Calls)
	})
}

func TestTimeWindowExpiresEverythingAfterLongIdleGap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{Window: 10 * time.Second, MinCalls: 6})
		run(b, 3, boom)
		time.Sleep(7 * time.Second)
		run(b, 2, ok)
		require.Equal(t, 5, b.Metrics().Calls)

		// Far longer than the window, and not a multiple of it, so a
		// bucket index that wrapped around would land on stale counts.
		time.Sleep(1000*10*time.Second + 3*time.Second)
		run(b, 1, boom)

		m := b.Metrics()
		assert.Equal(t, 1, m.Calls)
		assert.Equal(t, 1, m.Failures)
		run(b, 4, boom)
		assert.Equal(t, breaker.Closed, b.State(), "5 calls are below MinCalls")
		run(b, 1, boom)
		assert.Equal(t, breaker.Open, b.State())
	})
}

func TestCountWindowSlidesPastFailureAfterAllSuccesses(t *testing.T) {
	b := breaker.New(breaker.Config{WindowSize: 10, MinCalls: 10})
	run(b, 10, ok) // a window of nothing but successes
	run(b, 1, boom)
	run(b, 9, ok)
	require.Equal(t, 1, b.Metrics().Failures, "the failure is among the last 10")

	run(b, 1, ok)

	m := b.Metrics()
	assert.Equal(t, 10, m.Calls)
	assert.Equal(t, 0, m.Failures, "the failure has slid out")
}
