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

func TestProbeThatNeverReturnsLosesItsSlotAfterOpenFor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := halfOpen(t, 1) // OpenFor is one second
		stuck := make(chan struct{})
		go func() {
			_ = b.Do(context.Background(), func(context.Context) error { <-stuck; return nil })
		}()
		synctest.Wait()
		defer close(stuck)

		time.Sleep(time.Second - time.Nanosecond)
		require.ErrorIs(t, b.Do(t.Context(), ok), breaker.ErrOpen, "the probe still holds its slot")
		time.Sleep(time.Nanosecond)

		assert.Equal(t, 1, run(b, 1, ok), "OpenFor after the probe was admitted, another takes its slot")
		assert.Equal(t, breaker.Closed, b.State())
	})
}

func TestLateProbeResultIsIgnoredOnceItsSlotIsTaken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := halfOpen(t, 1)
		late, err := b.Allow()
		require.NoError(t, err)
		time.Sleep(time.Second)
		next, err := b.Allow()
		require.NoError(t, err, "the late probe's slot is free again")

		late.Done(errBoom)
		assert.Equal(t, breaker.HalfOpen, b.State(), "the late failure does not reopen")
		assert.Equal(t, 1, b.Metrics().Probes)

		next.Done(nil)
		assert.Equal(t, breaker.Closed, b.State())
	})
}

func TestSlowProbeStillCountsWhenNoCallTookItsSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := halfOpen(t, 1)
		p, err := b.Allow()
		require.NoError(t, err)
		time.Sleep(3 * time.Second)

		p.Done(errBoom)

		assert.Equal(t, breaker.Open, b.State())
	})
}

func TestEachOfSeveralStuckProbesLosesItsSlotInTurn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := halfOpen(t, 2)
		first, err := b.Allow()
		require.NoError(t, err)
		time.Sleep(300 * time.Millisecond)
		second, err := b.Allow()
		require.NoError(t, err)
		defer second.Done(nil)
		time.Sleep(700 * time.Millisecond)

		third, err := b.Allow()
		require.NoError(t, err, "the first probe's slot frees OpenFor after it was admitted")
		defer third.Done(nil)
		rej := b.Do(t.Context(), ok)
		require.ErrorIs(t, rej, breaker.ErrOpen)
		assert.Equal(t, 300*time.Millisecond, retryAfter(t, rej), "the second probe's slot frees next, in 300ms")
		first.Done(nil) // too late: ignored
		assert.Equal(t, 2, b.Metrics().Probes)
	})
}
