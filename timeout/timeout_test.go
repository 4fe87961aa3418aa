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
	"github.com/magicmagnets/resilience/timeout"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// sleep waits d or until ctx ends, like an operation that honours ctx.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
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

func TestTimeoutEmitsEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var got []resilience.Event
		p := timeout.New(time.Second).WithObserver("db", resilience.ObserverFunc(func(e resilience.Event) { got = append(got, e) }))
		_ = p.Do(t.Context(), func(ctx context.Context) error { return sleep(ctx, time.Hour) })
		require.Len(t, got, 1)
		assert.Equal(t, resilience.KindTimeout, got[0].Kind)
		assert.Equal(t, "timeout", got[0].Policy)
		assert.Equal(t, "db", got[0].Name)
		assert.Equal(t, time.Second, got[0].Delay)
	})
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
// timeout event.
func TestLateSuccessIsASuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var events []resilience.Event
		p := timeout.New(time.Second).WithObserver("db", resilience.ObserverFunc(func(e resilience.Event) { events = append(events, e) }))
		err := p.Do(t.Context(), func(ctx context.Context) error {
			time.Sleep(5 * time.Second)
			return nil
		})
		assert.NoError(t, err)
		assert.Empty(t, events)
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
