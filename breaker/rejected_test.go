package breaker_test

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/resiliencetest"
)

func TestErrOpenMatchesErrRejected(t *testing.T) {
	assert.ErrorIs(t, breaker.ErrOpen, resilience.ErrRejected)
	assert.EqualError(t, breaker.ErrOpen, "breaker: circuit open")
	assert.NotErrorIs(t, errBoom, breaker.ErrOpen)
}

func TestEveryRejectionMatchesErrOpenAndErrRejected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rejections := map[string]func() error{
			"open": func() error {
				b := breaker.New(breaker.Config{ConsecutiveFailures: 1})
				run(b, 1, boom)
				return b.Do(t.Context(), ok)
			},
			"forced open": func() error {
				b := breaker.New(breaker.Config{})
				b.ForceOpen()
				return b.Do(t.Context(), ok)
			},
			"half-open, probe slot taken": func() error {
				b := halfOpen(t, 1)
				p, err := b.Allow()
				require.NoError(t, err)
				defer p.Done(nil)
				_, err = b.Allow()
				return err
			},
		}
		for name, reject := range rejections {
			err := reject()
			assert.ErrorIs(t, err, breaker.ErrOpen, name)
			assert.ErrorIs(t, err, resilience.ErrRejected, name)
			_, hinted := resilience.RetryAfter(err)
			assert.True(t, hinted, "%s: the rejection carries a RetryAfter method", name)
		}
	})
}

func TestEveryRejectionWithATimeToTellHasPositiveRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := halfOpen(t, 1)
		p, err := b.Allow()
		require.NoError(t, err)
		defer p.Done(nil)

		for range 10 {
			time.Sleep(99 * time.Millisecond)
			err := b.Do(t.Context(), ok)
			require.ErrorIs(t, err, breaker.ErrOpen)
			assert.Positive(t, retryAfter(t, err), "a caller turned away while half-open is told when to come back")
		}
	})
}

func TestMetricsCountRejectedCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: time.Second})
		run(b, 1, boom)
		run(b, 3, ok) // open: rejected
		time.Sleep(time.Second)
		p, err := b.Allow() // the probe
		require.NoError(t, err)
		run(b, 2, ok) // half-open, slot taken: rejected
		p.Done(nil)
		run(b, 4, ok) // closed: admitted
		b.ForceOpen()
		run(b, 1, ok) // forced open: rejected

		assert.Equal(t, 6, b.Metrics().Rejected)
	})
}

func TestRejectionObservedIsTheErrorReturned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &resiliencetest.Recorder{}
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: time.Second, Observer: rec})
		run(b, 1, boom)
		time.Sleep(time.Second)
		p, err := b.Allow()
		require.NoError(t, err)
		defer p.Done(nil)
		time.Sleep(400 * time.Millisecond)

		err = b.Do(t.Context(), ok)

		rejected := ofKind(rec, resilience.KindRejected)
		require.Len(t, rejected, 1)
		assert.True(t, errors.Is(rejected[0].Err, resilience.ErrRejected))
		assert.Same(t, err, rejected[0].Err)
		assert.Equal(t, 400*time.Millisecond, rejected[0].Delay, "the probe's age")
	})
}
