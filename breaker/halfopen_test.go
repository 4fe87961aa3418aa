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

func TestHalfOpenRejectionHintIsTheFloorRightAfterTheProbeIsAdmitted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := halfOpen(t, 1) // OpenFor is one second: the floor is 20ms
		p, err := b.Allow()
		require.NoError(t, err)
		defer p.Done(nil)

		err = b.Do(t.Context(), ok)

		assert.ErrorIs(t, err, breaker.ErrOpen)
		assert.ErrorIs(t, err, resilience.ErrRejected)
		wait, hinted := resilience.RetryAfter(err)
		assert.True(t, hinted)
		assert.Equal(t, 20*time.Millisecond, wait, "OpenFor/50 while the probe is younger than that")
		assert.Equal(t, wait, b.Metrics().RetryAfter)
		time.Sleep(15 * time.Millisecond)
		assert.Equal(t, 20*time.Millisecond, retryAfter(t, b.Do(t.Context(), ok)), "a 15ms-old probe: still the floor")
	})
}

func TestHalfOpenRejectionHintAtTheDefaultOpenForIs100ms(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1})
		run(b, 1, boom)
		time.Sleep(5 * time.Second)
		p, err := b.Allow()
		require.NoError(t, err)
		defer p.Done(nil)

		assert.Equal(t, 100*time.Millisecond, retryAfter(t, b.Do(t.Context(), ok)))
	})
}

func TestHalfOpenRejectionHintGrowsWithTheProbesAge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := halfOpen(t, 1) // OpenFor is one second
		p, err := b.Allow()
		require.NoError(t, err)
		defer p.Done(nil)
		admitted := time.Now()

		for _, age := range []time.Duration{100, 300, 500} {
			time.Sleep(time.Until(admitted.Add(age * time.Millisecond)))
			err := b.Do(t.Context(), ok)
			require.ErrorIs(t, err, breaker.ErrOpen)
			assert.Equal(t, age*time.Millisecond, retryAfter(t, err), "as long again as the probe has taken")
			assert.Equal(t, age*time.Millisecond, b.Metrics().RetryAfter)
		}
	})
}

func TestHalfOpenRejectionHintIsCappedByTheSlotsRelease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := halfOpen(t, 1) // OpenFor is one second
		p, err := b.Allow()
		require.NoError(t, err)
		defer p.Done(nil)

		time.Sleep(700 * time.Millisecond)
		assert.Equal(t, 300*time.Millisecond, retryAfter(t, b.Do(t.Context(), ok)), "the slot frees 300ms from now")
		time.Sleep(300*time.Millisecond - time.Nanosecond)
		assert.Equal(t, time.Nanosecond, retryAfter(t, b.Do(t.Context(), ok)))
		time.Sleep(time.Nanosecond)
		assert.Equal(t, 1, run(b, 1, ok), "a call made when the hint ends takes the freed slot")
	})
}

func TestKeptHalfOpenRejectionHintFollowsTheClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := halfOpen(t, 1) // OpenFor is one second
		p, err := b.Allow()
		require.NoError(t, err)
		defer p.Done(nil)
		time.Sleep(100 * time.Millisecond)
		err = b.Do(t.Context(), ok)
		require.Equal(t, 100*time.Millisecond, retryAfter(t, err))

		time.Sleep(200 * time.Millisecond)
		assert.Equal(t, 300*time.Millisecond, retryAfter(t, err), "the probe is 300ms old now")
		time.Sleep(600 * time.Millisecond)
		assert.Equal(t, 100*time.Millisecond, retryAfter(t, err), "its slot frees in 100ms")
		time.Sleep(200 * time.Millisecond)
		assert.Zero(t, retryAfter(t, err), "past the slot's release")
	})
}

func TestCallerFollowingTheHalfOpenHintReturnsAtDoublingIntervals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := halfOpen(t, 1) // OpenFor is one second: the floor is 20ms
		p, err := b.Allow()
		require.NoError(t, err)
		defer p.Done(nil)
		start := time.Now()

		var tries []time.Duration
		for {
			err := b.Do(t.Context(), ok)
			tries = append(tries, time.Since(start))
			if err == nil {
				break
			}
			time.Sleep(retryAfter(t, err))
		}

		ms := time.Millisecond
		assert.Equal(t, []time.Duration{0, 20 * ms, 40 * ms, 80 * ms, 160 * ms, 320 * ms, 640 * ms, time.Second}, tries,
			"the wait doubles with the probe's age until the slot frees at OpenFor")
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

		assert.Equal(t, 300*time.Millisecond, retryAfter(t, b.Do(t.Context(), ok)), "the first probe's age")

		first.Done(nil) // one of two probes succeeded; the slots stay taken
		assert.Equal(t, 100*time.Millisecond, retryAfter(t, b.Do(t.Context(), ok)),
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
