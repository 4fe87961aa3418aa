package breaker_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/resiliencetest"
)

func TestObserverSeesEveryStateChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &resiliencetest.Recorder{}
		b := breaker.New(breaker.Config{Name: "payments", ConsecutiveFailures: 1, OpenFor: time.Second, Observer: rec})
		run(b, 1, boom)
		time.Sleep(time.Second)
		run(b, 1, boom) // probe fails
		time.Sleep(2 * time.Second)
		run(b, 1, ok) // probe succeeds

		assert.Equal(t, []string{
			"closed->open", "open->half-open", "half-open->open", "open->half-open", "half-open->closed",
		}, transitions(rec))
		for _, e := range ofKind(rec, resilience.KindStateChange) {
			assert.Equal(t, "breaker", e.Policy)
			assert.Equal(t, "payments", e.Name)
		}
	})
}

func TestObserverSeesRejectionsWithRetryAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &resiliencetest.Recorder{}
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: 4 * time.Second, Observer: rec})
		run(b, 1, boom)
		time.Sleep(time.Second)

		err := b.Do(t.Context(), ok)

		rejected := ofKind(rec, resilience.KindRejected)
		require.Len(t, rejected, 1)
		assert.Equal(t, "breaker", rejected[0].Policy)
		assert.Same(t, err, rejected[0].Err)
		assert.Equal(t, 3*time.Second, rejected[0].Delay)
	})
}

func TestObserverSeesSlowCallsWithTheirDuration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &resiliencetest.Recorder{}
		b := breaker.New(breaker.Config{SlowCallDuration: time.Second, Observer: rec})
		run(b, 1, func(context.Context) error { time.Sleep(time.Second); return nil })
		run(b, 1, func(context.Context) error { time.Sleep(3 * time.Second); return errBoom })

		slow := ofKind(rec, resilience.KindSlowCall)
		require.Len(t, slow, 1)
		assert.Equal(t, 3*time.Second, slow[0].Duration, "how long it ran")
		assert.Zero(t, slow[0].Delay, "a slow call is no wait")
	})
}

func TestObserverCallingBackIntoBreakerDoesNotDeadlock(t *testing.T) {
	var b *breaker.Breaker
	calls := 0
	b = breaker.New(breaker.Config{
		ConsecutiveFailures: 1,
		OpenFor:             time.Hour,
		SlowCallDuration:    time.Nanosecond,
		Observer: resilience.ObserverFunc(func(resilience.Event) {
			calls++
			_ = b.State()
			_ = b.Metrics()
		}),
	})
	done := make(chan struct{})
	go func() {
		defer close(done)
		run(b, 1, func(context.Context) error { time.Sleep(time.Millisecond); return errBoom }) // slow call, trip
		run(b, 1, ok)                                                                           // rejection
		b.ForceOpen()
		b.Disable()
		b.Reset()
	}()

	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("observer calling State deadlocked")
	}
	assert.Equal(t, 6, calls, "slow call, trip, its call, rejection, its call, disable")
}

func TestNoObserverMeansNoEventsAndNoPanic(t *testing.T) {
	b := breaker.New(breaker.Config{ConsecutiveFailures: 1, SlowCallDuration: time.Nanosecond})
	assert.NotPanics(t, func() {
		run(b, 2, boom)
		b.ForceOpen()
		b.Reset()
	})
}
