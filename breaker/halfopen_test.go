package breaker_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
)

// halfOpen returns a breaker that tripped on one failure and whose open
// time of one second has elapsed. Call it inside a synctest bubble.
func halfOpen(t *testing.T, probes int) *breaker.Breaker {
	t.Helper()
	b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: time.Second, HalfOpenProbes: probes})
	run(b, 1, boom)
	time.Sleep(time.Second)
	require.Equal(t, breaker.HalfOpen, b.State())
	return b
}

func TestHalfOpenAdmitsExactlyHalfOpenProbesOfManyConcurrentCallers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := halfOpen(t, 3)
		release := make(chan struct{})
		var admitted, rejected atomic.Int32
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				err := b.Do(t.Context(), func(context.Context) error {
					admitted.Add(1)
					<-release
					return nil
				})
				if errors.Is(err, breaker.ErrOpen) {
					rejected.Add(1)
				}
			})
		}
		synctest.Wait()

		assert.Equal(t, int32(3), admitted.Load())
		assert.Equal(t, int32(97), rejected.Load())
		assert.Equal(t, 3, b.Metrics().Probes)
		close(release)
		wg.Wait()
		assert.Equal(t, breaker.Closed, b.State())
	})
}

func TestHalfOpenRejectionWhileProbesBusyTellsWhenTheSlotFrees(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := halfOpen(t, 1) // OpenFor is one second
		p, err := b.Allow()
		require.NoError(t, err)
		defer p.Done(nil)
		time.Sleep(300 * time.Millisecond)

		err = b.Do(t.Context(), ok)

		assert.ErrorIs(t, err, breaker.ErrOpen)
		assert.ErrorIs(t, err, resilience.ErrRejected)
		wait, hinted := resilience.RetryAfter(err)
		assert.True(t, hinted)
		assert.Equal(t, 700*time.Millisecond, wait, "until the probe has held its slot for OpenFor")
		assert.Equal(t, wait, b.Metrics().RetryAfter)
	})
}

func TestHalfOpenRejectionHintNamesTheOldestOfSeveralProbes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := halfOpen(t, 2)
		first, err := b.Allow()
		require.NoError(t, err)
		time.Sleep(200 * time.Millisecond)
		second, err := b.Allow()
		require.NoError(t, err)
		defer second.Done(nil)
		time.Sleep(100 * time.Millisecond)

		assert.Equal(t, 700*time.Millisecond, retryAfter(t, b.Do(t.Context(), ok)))

		first.Done(nil) // one of two probes succeeded; the slots stay taken
		assert.Equal(t, 900*time.Millisecond, retryAfter(t, b.Do(t.Context(), ok)),
			"the oldest probe still out is the second")
	})
}

func TestAllProbesSucceedingClosesWithFreshWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{MinCalls: 4, OpenFor: time.Second, HalfOpenProbes: 2})
		run(b, 4, boom)
		require.Equal(t, breaker.Open, b.State())
		time.Sleep(time.Second)

		run(b, 1, ok)
		require.Equal(t, breaker.HalfOpen, b.State(), "one of two probes")
		run(b, 1, ok)

		m := b.Metrics()
		assert.Equal(t, breaker.Closed, m.State)
		assert.Equal(t, 0, m.Calls, "the window starts afresh")
		run(b, 3, boom)
		assert.Equal(t, breaker.Closed, b.State(), "3 calls are below MinCalls")
	})
}

func TestFailedProbeOpensAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := halfOpen(t, 2)
		run(b, 1, ok)

		run(b, 1, boom)

		assert.Equal(t, breaker.Open, b.State())
		assert.Zero(t, run(b, 1, ok))
	})
}

func TestSlowProbesOpenAgainAtSlowCallRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: time.Second, SlowCallDuration: time.Second})
		run(b, 1, boom)
		time.Sleep(time.Second)

		run(b, 1, func(context.Context) error { time.Sleep(2 * time.Second); return nil })

		assert.Equal(t, breaker.Open, b.State())
	})
}

func TestResultsFromEarlierGenerationAreIgnored(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: time.Second})
		staleOK, err := b.Allow()
		require.NoError(t, err)
		staleFail, err := b.Allow()
		require.NoError(t, err)
		run(b, 1, boom)
		time.Sleep(time.Second)
		probe, err := b.Allow()
		require.NoError(t, err)
		require.Equal(t, breaker.HalfOpen, b.State())

		staleOK.Done(nil)
		assert.Equal(t, breaker.HalfOpen, b.State(), "a stale success does not close")
		staleFail.Done(errBoom)
		assert.Equal(t, breaker.HalfOpen, b.State(), "a stale failure does not reopen")
		assert.Equal(t, 1, b.Metrics().Probes)

		probe.Done(nil)
		assert.Equal(t, breaker.Closed, b.State())
	})
}

func TestPanickingProbeCountsAsFailureAndFreesItsSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := halfOpen(t, 1)

		assert.PanicsWithValue(t, "probe panic", func() {
			_ = b.Do(t.Context(), func(context.Context) error { panic("probe panic") })
		})

		m := b.Metrics()
		assert.Equal(t, breaker.Open, m.State)
		assert.Equal(t, 0, m.Probes)
		time.Sleep(m.OpenFor)
		assert.Equal(t, 1, run(b, 1, ok), "the next probe is admitted")
		assert.Equal(t, breaker.Closed, b.State())
	})
}

func TestPanicWhileClosedCountsAsFailure(t *testing.T) {
	b := breaker.New(breaker.Config{ConsecutiveFailures: 2})
	for range 2 {
		assert.Panics(t, func() {
			_ = b.Do(t.Context(), func(context.Context) error { panic("boom") })
		})
	}
	assert.Equal(t, breaker.Open, b.State())
}
