package breaker_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/resiliencetest"
)

func TestForceOpenRejectsUntilReset(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &resiliencetest.Recorder{}
		b := breaker.New(breaker.Config{OpenFor: time.Second, Observer: rec})

		b.ForceOpen()
		time.Sleep(time.Hour)

		err := b.Do(t.Context(), ok)
		assert.ErrorIs(t, err, breaker.ErrOpen)
		assert.Equal(t, time.Duration(0), retryAfter(t, err), "no time to tell")
		m := b.Metrics()
		assert.Equal(t, breaker.Open, m.State)
		assert.True(t, m.ForcedOpen)
		assert.Equal(t, 0, m.Trips, "a forced open is not a trip")

		b.Reset()
		assert.Equal(t, 1, run(b, 1, ok))
		assert.Equal(t, []string{"closed->open", "open->closed"}, transitions(rec))
	})
}

func TestForceOpenOverridesTrippedBreakersOpenTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: time.Second})
		run(b, 1, boom)

		b.ForceOpen()
		time.Sleep(time.Minute)

		assert.Equal(t, breaker.Open, b.State())
		assert.Zero(t, run(b, 1, ok))
	})
}

func TestDisableAdmitsEveryCallAndStillCounts(t *testing.T) {
	b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: time.Hour})
	run(b, 1, boom)
	require.Equal(t, breaker.Open, b.State())

	b.Disable()
	ran := run(b, 30, boom)

	assert.Equal(t, 30, ran)
	m := b.Metrics()
	assert.Equal(t, breaker.Closed, m.State)
	assert.True(t, m.Disabled)
	assert.Equal(t, 30, m.Failures)
	assert.Equal(t, 30, m.ConsecutiveFailures)
}

func TestResetClosesWithFreshWindowAndEndsDisable(t *testing.T) {
	b := breaker.New(breaker.Config{ConsecutiveFailures: 3})
	b.Disable()
	run(b, 5, boom)

	b.Reset()

	m := b.Metrics()
	assert.Equal(t, breaker.Closed, m.State)
	assert.False(t, m.Disabled)
	assert.Equal(t, 0, m.Calls)
	assert.Equal(t, 0, m.ConsecutiveFailures)
	run(b, 3, boom)
	assert.Equal(t, breaker.Open, b.State(), "tripping works again")
}

func TestResetOfFullHealthyWindowCountsFromZero(t *testing.T) {
	b := breaker.New(breaker.Config{WindowSize: 10})
	run(b, 10, ok)

	b.Reset()
	run(b, 5, ok)

	assert.Equal(t, 5, b.Metrics().Calls)
}

func TestResetIgnoresResultsOfCallsAdmittedBefore(t *testing.T) {
	b := breaker.New(breaker.Config{ConsecutiveFailures: 1})
	p, err := b.Allow()
	require.NoError(t, err)

	b.Reset()
	p.Done(errBoom)

	assert.Equal(t, breaker.Closed, b.State())
	assert.Equal(t, 0, b.Metrics().Calls)
}

func TestMetricsReportsWindowStateAndTimes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{MinCalls: 10, SlowCallDuration: time.Second, OpenFor: 30 * time.Second})
		run(b, 4, ok)
		run(b, 1, func(context.Context) error { time.Sleep(2 * time.Second); return nil })
		run(b, 3, boom)
		time.Sleep(time.Minute)

		m := b.Metrics()
		assert.Equal(t, breaker.Metrics{
			State:               breaker.Closed,
			TimeInState:         time.Minute + 2*time.Second,
			Calls:               8,
			Failures:            3,
			SlowCalls:           1,
			FailureRate:         3.0 / 8,
			SlowCallRate:        1.0 / 8,
			ConsecutiveFailures: 3,
			OpenFor:             30 * time.Second,
		}, m)

		run(b, 2, boom) // 5 of 10 failed
		time.Sleep(10 * time.Second)
		m = b.Metrics()
		assert.Equal(t, breaker.Open, m.State)
		assert.Equal(t, 10*time.Second, m.TimeInState)
		assert.Equal(t, 20*time.Second, m.RetryAfter)
		assert.Equal(t, 1, m.Trips)
		assert.Equal(t, 10, m.Calls, "the counts that tripped it")
	})
}
