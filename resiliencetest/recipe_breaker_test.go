package resiliencetest_test

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/resiliencetest"
)

// The breaker recipe of the package documentation.
func TestRecipeBreakerProbesAfterOpenFor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec resiliencetest.Recorder
		b := breaker.New(breaker.Config{ConsecutiveFailures: 2, OpenFor: 5 * time.Second, Observer: &rec})
		dep := resiliencetest.FailFirst(2, nil)
		call := func() error {
			return resilience.Chain(b, dep).Do(context.Background(), func(context.Context) error { return nil })
		}

		require.ErrorIs(t, call(), resiliencetest.ErrInjected)
		require.ErrorIs(t, call(), resiliencetest.ErrInjected) // the second failure trips it
		assert.ErrorIs(t, call(), breaker.ErrOpen)             // rejected without a call
		time.Sleep(5 * time.Second)                            // OpenFor elapses
		assert.NoError(t, call())                              // the probe succeeds
		assert.Equal(t, breaker.Closed, b.State())
		assert.Equal(t, "[closed->open open->half-open half-open->closed]", fmt.Sprint(rec.StateChanges()))
		assert.Equal(t, 2, dep.Injected())
		assert.Equal(t, 3, dep.Calls(), "the rejected call never reached the dependency")
	})
}

// A failed probe sends the breaker back to open for another OpenFor; the
// recorder shows the whole cycle and the fake clock when each step happened.
func TestRecipeBreakerReopensWhenTheProbeFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec resiliencetest.Recorder
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: 5 * time.Second, Observer: &rec})
		dep := resiliencetest.FailFirst(2, nil)
		call := func() error {
			return resilience.Chain(b, dep).Do(context.Background(), func(context.Context) error { return nil })
		}

		require.Error(t, call()) // trips
		time.Sleep(5 * time.Second)
		require.ErrorIs(t, call(), resiliencetest.ErrInjected) // the probe fails
		assert.Equal(t, breaker.Open, b.State())
		time.Sleep(4 * time.Second)
		assert.ErrorIs(t, call(), breaker.ErrOpen, "still open one second before OpenFor ends")
		time.Sleep(time.Second)
		assert.NoError(t, call())

		assert.Equal(t, []resiliencetest.Transition{
			{From: "closed", To: "open"},
			{From: "open", To: "half-open"},
			{From: "half-open", To: "open"},
			{From: "open", To: "half-open"},
			{From: "half-open", To: "closed"},
		}, rec.StateChanges())
		assert.Equal(t, 1, rec.Count(resilience.KindRejected))
	})
}
