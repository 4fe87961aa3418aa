package breaker_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/breaker"
)

func TestMetricsKeepTrippingCountsWhileOpenWithTimeWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{Window: 10 * time.Second, MinCalls: 4, OpenFor: time.Minute})
		run(b, 1, ok)
		run(b, 3, boom)
		require.Equal(t, breaker.Open, b.State())

		time.Sleep(30 * time.Second) // three whole windows

		m := b.Metrics()
		assert.Equal(t, breaker.Open, m.State)
		assert.Equal(t, 4, m.Calls)
		assert.Equal(t, 3, m.Failures)
		assert.Equal(t, 0.75, m.FailureRate)
	})
}

func TestMetricsKeepTrippingCountsWhileHalfOpenAndAfterReopen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{Window: time.Second, MinCalls: 2, OpenFor: 5 * time.Second})
		run(b, 2, boom)
		time.Sleep(5 * time.Second)
		require.Equal(t, breaker.HalfOpen, b.State())
		assert.Equal(t, 2, b.Metrics().Failures)

		run(b, 1, boom) // the probe fails

		m := b.Metrics()
		require.Equal(t, breaker.Open, m.State)
		assert.Equal(t, 2, m.Calls, "the probe is not a call of the window")
		assert.Equal(t, 2, m.Failures)
	})
}

func TestMetricsOfForcedOpenKeepTheCountsItWasForcedWith(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{Window: time.Second})
		run(b, 3, ok)
		run(b, 1, boom)
		b.ForceOpen()

		time.Sleep(time.Hour)

		m := b.Metrics()
		assert.Equal(t, 4, m.Calls)
		assert.Equal(t, 1, m.Failures)
	})
}

func TestClosingStartsAFreshWindowAfterTrippingCounts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{Window: 10 * time.Second, MinCalls: 2, OpenFor: time.Second})
		run(b, 2, boom)
		time.Sleep(time.Second)
		run(b, 1, ok) // the probe closes it

		m := b.Metrics()
		assert.Equal(t, breaker.Closed, m.State)
		assert.Equal(t, 0, m.Calls)
	})
}
