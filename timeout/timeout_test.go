package timeout_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/resiliencetest"
	"github.com/magicmagnets/resilience/timeout"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func succeed(context.Context) error { return nil }

// sleep waits d or until ctx ends, like an operation that honours ctx: it
// returns ctx's error in the second case.
func sleep(ctx context.Context, d time.Duration) error {
	return resiliencetest.Always(resiliencetest.Delay(d)).Do(ctx, succeed)
}

func TestTimeoutFiresAfterDuration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		err := timeout.New(2*time.Second).Do(t.Context(), func(ctx context.Context) error {
			return sleep(ctx, time.Hour)
		})
		assert.Equal(t, 2*time.Second, time.Since(start))
		assert.ErrorIs(t, err, timeout.ErrTimeout)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		var te *timeout.Error
		require.ErrorAs(t, err, &te)
		assert.Equal(t, 2*time.Second, te.Timeout)
		assert.EqualError(t, err, "timeout: deadline of 2s exceeded: context deadline exceeded")
	})
}

func TestTimeoutPassesFastCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		want := errors.New("boom")
		p := timeout.New(time.Second)
		assert.NoError(t, p.Do(t.Context(), func(ctx context.Context) error { return sleep(ctx, 999*time.Millisecond) }))
		err := p.Do(t.Context(), func(context.Context) error { return want })
		assert.Same(t, want, err, "an error before the deadline comes back unchanged")
	})
}

func TestTimeoutSetsDeadlineOnContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var dl time.Time
		_ = timeout.New(3*time.Second).Do(t.Context(), func(ctx context.Context) error {
			dl, _ = ctx.Deadline()
			return nil
		})
		assert.Equal(t, time.Now().Add(3*time.Second), dl)
	})
}

// TestCallerDeadlineIsNotThisTimeout: when the caller's own, shorter deadline
// ends the call, the error is the caller's, not ErrTimeout.
func TestCallerDeadlineIsNotThisTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		err := timeout.New(time.Minute).Do(ctx, func(ctx context.Context) error { return sleep(ctx, time.Hour) })
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.NotErrorIs(t, err, timeout.ErrTimeout)
	})
}

func TestCallerCancelIsNotThisTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(time.Second, cancel)
		err := timeout.New(time.Minute).Do(ctx, func(ctx context.Context) error { return sleep(ctx, time.Hour) })
		assert.ErrorIs(t, err, context.Canceled)
		assert.NotErrorIs(t, err, timeout.ErrTimeout)
	})
}

// TestOperationIgnoringContextStillReportsTimeout: the operation runs in the
// caller's goroutine to its end; Do reports the timeout afterwards.
func TestOperationIgnoringContextStillReportsTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		err := timeout.New(time.Second).Do(t.Context(), func(ctx context.Context) error {
			time.Sleep(5 * time.Second)
			return errors.New("late")
		})
		assert.Equal(t, 5*time.Second, time.Since(start))
		assert.ErrorIs(t, err, timeout.ErrTimeout)
	})
}

// TestTimeoutEmitsTimeoutThenCall: a call that times out emits KindTimeout
// with the time allowed in Duration (no Delay: nothing waited), then the
// call's KindCall with how long it took and what Do returned.
func TestTimeoutEmitsTimeoutThenCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &resiliencetest.Recorder{}
		p := timeout.New(time.Second).WithObserver("db", rec)
		err := p.Do(t.Context(), func(ctx context.Context) error {
			err := sleep(ctx, time.Hour)
			time.Sleep(200 * time.Millisecond) // a slow return after the deadline
			return err
		})
		require.ErrorIs(t, err, timeout.ErrTimeout)
		assert.Equal(t, []resilience.Event{
			{Policy: "timeout", Name: "db", Kind: resilience.KindTimeout, Duration: time.Second, Err: context.DeadlineExceeded},
			{Policy: "timeout", Name: "db", Kind: resilience.KindCall, Duration: 1200 * time.Millisecond, Err: err},
		}, rec.Events())
	})
}

// TestCallEventReportsEveryFinishedCall: a success, a failure before the
// deadline and the caller's own cancellation each end with one KindCall
// carrying the call's duration and Do's error.
func TestCallEventReportsEveryFinishedCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &resiliencetest.Recorder{}
		p := timeout.New(time.Second).WithObserver("db", rec)
		boom := errors.New("boom")
		require.NoError(t, p.Do(t.Context(), func(ctx context.Context) error { return sleep(ctx, 300*time.Millisecond) }))
		require.Same(t, boom, p.Do(t.Context(), func(context.Context) error { return boom }))
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(100*time.Millisecond, cancel)
		require.ErrorIs(t, p.Do(ctx, func(ctx context.Context) error { return sleep(ctx, time.Hour) }), context.Canceled)
		assert.ErrorIs(t, p.Do(t.Context(), nil), resilience.ErrNilFunc)

		assert.Equal(t, []resilience.Event{
			{Policy: "timeout", Name: "db", Kind: resilience.KindCall, Duration: 300 * time.Millisecond},
			{Policy: "timeout", Name: "db", Kind: resilience.KindCall, Err: boom},
			{Policy: "timeout", Name: "db", Kind: resilience.KindCall, Duration: 100 * time.Millisecond, Err: context.Canceled},
		}, rec.Events(), "no KindTimeout for the caller's own cancellation; no call for a nil operation")
	})
}

// TestObservingAllocatesNothing: Do allocates what context.WithTimeout and
// its cancel allocate, with or without an observer that keeps nothing.
func TestObservingAllocatesNothing(t *testing.T) {
	ctx := context.Background()
	floor := testing.AllocsPerRun(1000, func() {
		c, cancel := context.WithTimeout(ctx, time.Second)
		_ = succeed(c)
		cancel()
	})
	p := timeout.New(time.Second)
	observed := p.WithObserver("db", resilience.ObserverFunc(func(resilience.Event) {}))
	assert.Equal(t, floor, testing.AllocsPerRun(1000, func() { _ = p.Do(ctx, succeed) }))
	assert.Equal(t, floor, testing.AllocsPerRun(1000, func() { _ = observed.Do(ctx, succeed) }))
}

func TestTimeoutRejectsNilFuncAndBadDuration(t *testing.T) {
	assert.ErrorIs(t, timeout.New(time.Second).Do(context.Background(), nil), resilience.ErrNilFunc)
	assert.PanicsWithValue(t, "timeout: non-positive timeout 0s", func() { timeout.New(0) })
	assert.PanicsWithValue(t, "timeout: non-positive timeout -1s", func() { timeout.New(-time.Second) })
}

func TestTimeoutCancelsItsContextWhenFnPanics(t *testing.T) {
	var inner context.Context
	assert.PanicsWithValue(t, "boom", func() {
		_ = timeout.New(time.Hour).Do(context.Background(), func(ctx context.Context) error {
			inner = ctx
			panic("boom")
		})
	})
	require.NotNil(t, inner)
	assert.ErrorIs(t, inner.Err(), context.Canceled, "the derived context is cancelled, not left to its deadline")
}

// foreignContext is a parent from outside the context package: deriving a
// cancellable context from it starts a goroutine that lasts until the child
// is cancelled.
type foreignContext struct {
	context.Context
	done chan struct{}
}

func (c foreignContext) Done() <-chan struct{} { return c.done }

func TestTimeoutLeaksNoGoroutineWhenFnPanicsUnderAForeignParent(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	parent := foreignContext{Context: context.Background(), done: make(chan struct{})}
	assert.Panics(t, func() {
		_ = timeout.New(time.Hour).Do(parent, func(context.Context) error { panic("boom") })
	})
}

// TestLateSuccessIsASuccess: an operation that ignores its context and
// succeeds after the deadline has done its work; Do returns nil and emits no
// timeout event, only the successful call.
func TestLateSuccessIsASuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &resiliencetest.Recorder{}
		p := timeout.New(time.Second).WithObserver("db", rec)
		err := p.Do(t.Context(), func(ctx context.Context) error {
			time.Sleep(5 * time.Second)
			return nil
		})
		assert.NoError(t, err)
		assert.Zero(t, rec.Count(resilience.KindTimeout))
		assert.Equal(t, []resilience.Event{{Policy: "timeout", Name: "db", Kind: resilience.KindCall, Duration: 5 * time.Second}}, rec.Events())
	})
}

func TestValidateReportsWhatNewPanicsOn(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second, time.Nanosecond, time.Hour} {
		err := timeout.Validate(d)
		if d > 0 {
			assert.NoError(t, err, d)
			assert.NotPanics(t, func() { timeout.New(d) }, d)
			continue
		}
		require.Error(t, err, d)
		assert.PanicsWithValue(t, err.Error(), func() { timeout.New(d) }, d)
	}
}
