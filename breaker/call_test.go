package breaker_test

import (
	"context"
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

// sleepy returns a call that takes d and then returns err.
func sleepy(d time.Duration, err error) resilience.Func {
	return func(context.Context) error {
		time.Sleep(d)
		return err
	}
}

func TestObserverSeesEveryCallWithItsDurationAndOutcome(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &resiliencetest.Recorder{}
		errInvalid := errors.New("invalid")
		b := breaker.New(breaker.Config{
			Name:                "payments",
			ConsecutiveFailures: 2,
			OpenFor:             time.Minute,
			Ignore:              func(err error) bool { return errors.Is(err, errInvalid) },
			Observer:            rec,
		})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()

		_ = b.Do(t.Context(), sleepy(2*time.Second, nil))                   // success
		_ = b.Do(t.Context(), sleepy(time.Second, errInvalid))              // ignored
		_ = b.Do(ctx, func(ctx context.Context) error { return ctx.Err() }) // the caller's own end
		_ = b.Do(t.Context(), sleepy(3*time.Second, errBoom))               // failure
		_ = b.Do(t.Context(), sleepy(time.Second, errBoom))                 // failure: trips
		rejection := b.Do(t.Context(), ok)                                  // rejected

		calls := ofKind(rec, resilience.KindCall)
		require.Len(t, calls, 6, "one per call, admitted or rejected")
		for _, e := range calls {
			assert.Equal(t, "breaker", e.Policy)
			assert.Equal(t, "payments", e.Name)
			assert.Zero(t, e.Delay, "a call is no wait")
		}
		assert.Equal(t, []time.Duration{2 * time.Second, time.Second, 0, 3 * time.Second, time.Second, 0}, durations(calls))
		assert.Equal(t, []error{nil, errInvalid, context.Canceled, errBoom, errBoom, rejection}, outcomes(calls))
		assert.ErrorIs(t, calls[5].Err, breaker.ErrOpen)
	})
}

func TestCallIsTheLastEventOfItsCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &resiliencetest.Recorder{}
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1, SlowCallDuration: time.Second, OpenFor: time.Minute, Observer: rec})

		_ = b.Do(t.Context(), sleepy(2*time.Second, errBoom)) // slow, failed, trips
		_ = b.Do(t.Context(), ok)                             // rejected

		var kinds []resilience.Kind
		for _, e := range rec.Events() {
			kinds = append(kinds, e.Kind)
		}
		assert.Equal(t, []resilience.Kind{
			resilience.KindSlowCall, resilience.KindStateChange, resilience.KindCall,
			resilience.KindRejected, resilience.KindCall,
		}, kinds)
		slow := ofKind(rec, resilience.KindSlowCall)
		call := ofKind(rec, resilience.KindCall)
		assert.Equal(t, slow[0].Duration, call[0].Duration, "both say how long the call ran")
	})
}

func TestTwoStepCallIsObservedOnceAtDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &resiliencetest.Recorder{}
		b := breaker.New(breaker.Config{Observer: rec})

		p, err := b.Allow()
		require.NoError(t, err)
		time.Sleep(1500 * time.Millisecond)
		assert.Zero(t, rec.Count(resilience.KindCall), "nothing before Done")
		p.Done(errBoom)
		p.Done(nil) // a second Done counts for nothing

		calls := ofKind(rec, resilience.KindCall)
		require.Len(t, calls, 1)
		assert.Equal(t, 1500*time.Millisecond, calls[0].Duration, "from Allow to Done")
		assert.Equal(t, errBoom, calls[0].Err)
	})
}

func TestTwoStepRejectionIsObservedAsACall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &resiliencetest.Recorder{}
		b := breaker.New(breaker.Config{Observer: rec})
		b.ForceOpen()

		_, err := b.Allow()

		require.ErrorIs(t, err, breaker.ErrOpen)
		calls := ofKind(rec, resilience.KindCall)
		require.Len(t, calls, 1)
		assert.Same(t, err, calls[0].Err)
		assert.Zero(t, calls[0].Duration)
	})
}

func TestHalfOpenRejectionIsObservedAsACall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &resiliencetest.Recorder{}
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: time.Second, Observer: rec})
		run(b, 1, boom)
		time.Sleep(time.Second)
		p, err := b.Allow() // the probe takes the only slot
		require.NoError(t, err)
		defer p.Done(nil)

		err = b.Do(t.Context(), ok)

		require.ErrorIs(t, err, breaker.ErrOpen)
		calls := ofKind(rec, resilience.KindCall)
		require.Len(t, calls, 2, "the failure that tripped it, then the rejection")
		assert.Same(t, err, calls[1].Err)
	})
}

func TestPanickingCallIsNotObservedAsACall(t *testing.T) {
	rec := &resiliencetest.Recorder{}
	b := breaker.New(breaker.Config{Observer: rec})

	assert.Panics(t, func() { _ = b.Do(t.Context(), func(context.Context) error { panic("boom") }) })

	assert.Zero(t, rec.Count(resilience.KindCall), "a call that panics has no outcome")
	assert.Equal(t, 1, b.Metrics().Failures, "it is still a failure")
}

func TestObservedCallsAllocateNothingButTheirEvents(t *testing.T) {
	var n int
	b := breaker.New(breaker.Config{Observer: resilience.ObserverFunc(func(resilience.Event) { n++ })})
	ctx := context.Background()

	allocs := testing.AllocsPerRun(1000, func() { _ = b.Do(ctx, ok) })

	assert.Zero(t, allocs)
	assert.Positive(t, n)
}

func durations(events []resilience.Event) []time.Duration {
	var out []time.Duration
	for _, e := range events {
		out = append(out, e.Duration)
	}
	return out
}

func outcomes(events []resilience.Event) []error {
	var out []error
	for _, e := range events {
		out = append(out, e.Err)
	}
	return out
}
