package bulkhead_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/bulkhead"
	"github.com/magicmagnets/resilience/resiliencetest"
)

func TestEventsOfAdmittedAndRefusedCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &resiliencetest.Recorder{}
		b := bulkhead.New(bulkhead.Config{Name: "cards", MaxConcurrent: 1, Observer: rec})
		errApp := errors.New("app")

		err := b.Do(context.Background(), func(context.Context) error {
			time.Sleep(10 * time.Millisecond)
			return errApp
		})
		require.ErrorIs(t, err, errApp)
		p := hold(t, b)
		refused := b.Do(context.Background(), ok)
		time.Sleep(5 * time.Millisecond)
		p.Done()

		assert.Equal(t, []resilience.Event{
			{Policy: "bulkhead", Name: "cards", Kind: resilience.KindCall, Duration: 10 * time.Millisecond, Err: errApp},
			{Policy: "bulkhead", Name: "cards", Kind: resilience.KindRejected, Err: refused},
			{Policy: "bulkhead", Name: "cards", Kind: resilience.KindCall, Err: refused},
			{Policy: "bulkhead", Name: "cards", Kind: resilience.KindCall, Duration: 5 * time.Millisecond},
		}, rec.Events())
	})
}

func TestCallerCancelInTheQueueIsACallNotARejection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &resiliencetest.Recorder{}
		b := bulkhead.New(bulkhead.Config{MaxConcurrent: 1, MaxQueue: 1, Observer: rec})
		p := hold(t, b)
		defer p.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		err := b.Do(ctx, ok)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, []resilience.Event{
			{Policy: "bulkhead", Kind: resilience.KindCall, Duration: 20 * time.Millisecond, Err: err},
		}, rec.Events())
	})
}

func TestMaxWaitRefusalIsEmittedWithItsWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &resiliencetest.Recorder{}
		b := bulkhead.New(bulkhead.Config{MaxConcurrent: 1, MaxQueue: 1, MaxWait: 30 * time.Millisecond, Observer: rec})
		p := hold(t, b)
		defer p.Done()
		err := b.Do(context.Background(), ok)
		require.ErrorIs(t, err, bulkhead.ErrFull)
		assert.Equal(t, []resilience.Event{
			{Policy: "bulkhead", Kind: resilience.KindRejected, Err: err},
			{Policy: "bulkhead", Kind: resilience.KindCall, Duration: 30 * time.Millisecond, Err: err},
		}, rec.Events())
	})
}

// TestPanickingObserverLeavesNoSlotHeld: the slot is released before the
// KindCall event, so an observer that panics there cannot keep it.
func TestPanickingObserverLeavesNoSlotHeld(t *testing.T) {
	b := bulkhead.New(bulkhead.Config{MaxConcurrent: 1, Observer: resilience.ObserverFunc(func(resilience.Event) { panic("observer") })})
	assert.PanicsWithValue(t, "observer", func() { _ = b.Do(context.Background(), ok) })
	assert.Zero(t, b.InFlight())
	p, err := b.Allow()
	require.NoError(t, err)
	assert.PanicsWithValue(t, "observer", p.Done)
	assert.Zero(t, b.InFlight())

	q, err := b.Allow()
	require.NoError(t, err)
	assert.PanicsWithValue(t, "observer", func() { _, _ = b.Allow() }, "a refusal's event panics")
	assert.Equal(t, 1, b.InFlight(), "only q's slot is held")
	assert.PanicsWithValue(t, "observer", q.Done)
	assert.Zero(t, b.InFlight())
}
