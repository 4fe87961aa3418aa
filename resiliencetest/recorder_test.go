package resiliencetest_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/resiliencetest"
)

func TestRecorderKeepsEventsInOrder(t *testing.T) {
	var rec resiliencetest.Recorder
	e1 := resilience.Event{Policy: "retry", Kind: resilience.KindRetry, Attempt: 1, Delay: time.Second}
	e2 := resilience.Event{Policy: "retry", Kind: resilience.KindGiveUp, Attempt: 2}
	rec.Observe(e1)
	rec.Observe(e2)
	assert.Equal(t, []resilience.Event{e1, e2}, rec.Events())
}

func TestRecorderEventsReturnsACopy(t *testing.T) {
	var rec resiliencetest.Recorder
	rec.Observe(resilience.Event{Kind: resilience.KindRetry})
	events := rec.Events()
	events[0].Kind = resilience.KindGiveUp
	assert.Equal(t, resilience.KindRetry, rec.Events()[0].Kind)
}

func TestRecorderCountsEventsByKind(t *testing.T) {
	var rec resiliencetest.Recorder
	for _, k := range []resilience.Kind{resilience.KindRetry, resilience.KindRejected, resilience.KindRetry} {
		rec.Observe(resilience.Event{Kind: k})
	}
	assert.Equal(t, 2, rec.Count(resilience.KindRetry))
	assert.Equal(t, 1, rec.Count(resilience.KindRejected))
	assert.Zero(t, rec.Count(resilience.KindTimeout))
}

func TestRecorderDelaysListsRetryDelaysOnly(t *testing.T) {
	var rec resiliencetest.Recorder
	rec.Observe(resilience.Event{Kind: resilience.KindRetry, Delay: 100 * time.Millisecond})
	rec.Observe(resilience.Event{Kind: resilience.KindSlowCall, Delay: time.Hour})
	rec.Observe(resilience.Event{Kind: resilience.KindRetry, Delay: 200 * time.Millisecond})
	assert.Equal(t, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}, rec.Delays())
}

func TestRecorderStateChangesListsTransitions(t *testing.T) {
	var rec resiliencetest.Recorder
	rec.Observe(resilience.Event{Kind: resilience.KindStateChange, From: "closed", To: "open"})
	rec.Observe(resilience.Event{Kind: resilience.KindRejected})
	rec.Observe(resilience.Event{Kind: resilience.KindStateChange, From: "open", To: "half-open"})
	ts := rec.StateChanges()
	require.Len(t, ts, 2)
	assert.Equal(t, resiliencetest.Transition{From: "closed", To: "open"}, ts[0])
	assert.Equal(t, "open->half-open", ts[1].String())
}

func TestRecorderRecordsAttemptsWithTheirTimes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec resiliencetest.Recorder
		boom := errors.New("boom")
		start := time.Now()
		assert.ErrorIs(t, rec.Do(context.Background(), func(context.Context) error {
			time.Sleep(time.Second)
			return boom
		}), boom)
		time.Sleep(2 * time.Second)
		assert.NoError(t, rec.Do(context.Background(), func(context.Context) error { return nil }))

		as := rec.Attempts()
		require.Len(t, as, 2)
		assert.Equal(t, start, as[0].Start)
		assert.Equal(t, time.Second, as[0].Duration)
		assert.ErrorIs(t, as[0].Err, boom)
		assert.NoError(t, as[1].Err)
		assert.Equal(t, []time.Duration{3 * time.Second}, rec.Gaps())
	})
}

func TestRecorderRejectsANilFunc(t *testing.T) {
	var rec resiliencetest.Recorder
	assert.ErrorIs(t, rec.Do(context.Background(), nil), resilience.ErrNilFunc)
	assert.Empty(t, rec.Attempts())
}

func TestRecorderResetForgetsEverything(t *testing.T) {
	var rec resiliencetest.Recorder
	rec.Observe(resilience.Event{Kind: resilience.KindRetry})
	_ = rec.Do(context.Background(), func(context.Context) error { return nil })
	rec.Reset()
	assert.Empty(t, rec.Events())
	assert.Empty(t, rec.Attempts())
	assert.Zero(t, rec.Count(resilience.KindRetry))
}

func TestRecorderWaitForReturnsAtOnceWhenTheConditionHolds(t *testing.T) {
	var rec resiliencetest.Recorder
	rec.Observe(resilience.Event{Kind: resilience.KindRetry})
	err := rec.WaitFor(context.Background(), func(es []resilience.Event) bool { return len(es) == 1 })
	assert.NoError(t, err)
}

func TestRecorderWaitForWakesOnTheEventThatSatisfiesIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec resiliencetest.Recorder
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := range 3 {
				time.Sleep(time.Second)
				rec.Observe(resilience.Event{Kind: resilience.KindRetry, Attempt: i + 1})
			}
		}()
		start := time.Now()
		err := rec.WaitFor(context.Background(), func(es []resilience.Event) bool { return len(es) >= 2 })
		require.NoError(t, err)
		assert.Equal(t, 2*time.Second, time.Since(start))
		<-done
	})
}

func TestRecorderWaitForReturnsTheContextErrorWhenItEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var rec resiliencetest.Recorder
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := rec.WaitFor(ctx, func([]resilience.Event) bool { return false })
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

func TestRecorderIsSafeForConcurrentUse(t *testing.T) {
	var rec resiliencetest.Recorder
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				rec.Observe(resilience.Event{Kind: resilience.KindRetry})
				_ = rec.Do(context.Background(), func(context.Context) error { return nil })
				_ = rec.Delays()
			}
		})
	}
	wg.Go(func() {
		_ = rec.WaitFor(context.Background(), func(es []resilience.Event) bool { return len(es) == 400 })
	})
	wg.Wait()
	assert.Equal(t, 400, rec.Count(resilience.KindRetry))
	assert.Len(t, rec.Attempts(), 400)
}

// A policy's calls reach the Recorder as KindCall events, one per finished
// call, the rejected ones included.
func TestRecorderCountsEveryCallOfAPolicy(t *testing.T) {
	var rec resiliencetest.Recorder
	b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: time.Hour, Observer: &rec})
	p := resilience.Chain(b, resiliencetest.Script(resiliencetest.Pass(), resiliencetest.Fail(nil)))
	ctx := context.Background()
	op := func(context.Context) error { return nil }

	require.NoError(t, p.Do(ctx, op))
	require.ErrorIs(t, p.Do(ctx, op), resiliencetest.ErrInjected) // trips
	require.ErrorIs(t, p.Do(ctx, op), breaker.ErrOpen)

	assert.Equal(t, 3, rec.Count(resilience.KindCall))
	var outcomes []error
	for _, e := range rec.Events() {
		if e.Kind == resilience.KindCall {
			outcomes = append(outcomes, e.Err)
		}
	}
	require.Len(t, outcomes, 3)
	assert.NoError(t, outcomes[0])
	assert.ErrorIs(t, outcomes[1], resiliencetest.ErrInjected)
	assert.ErrorIs(t, outcomes[2], resilience.ErrRejected)
}
