package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
)

func TestDoWithNilFuncReturnsErrNilFunc(t *testing.T) {
	b := breaker.New(breaker.Config{})

	err := b.Do(t.Context(), nil)

	assert.ErrorIs(t, err, resilience.ErrNilFunc)
}

func TestDoReturnsTheOperationsErrorUnchanged(t *testing.T) {
	b := breaker.New(breaker.Config{})
	wrapped := fmt.Errorf("call: %w", errBoom)

	err := b.Do(t.Context(), func(context.Context) error { return wrapped })

	assert.Same(t, wrapped, err)
}

func TestBreakerIgnoresCallerCancel(t *testing.T) {
	b := breaker.New(breaker.Config{ConsecutiveFailures: 1})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	err := b.Do(ctx, func(ctx context.Context) error { return fmt.Errorf("read: %w", ctx.Err()) })

	assert.ErrorIs(t, err, context.Canceled)
	m := b.Metrics()
	assert.Equal(t, breaker.Closed, m.State)
	assert.Equal(t, 0, m.Calls, "the cancelled call is not recorded at all")
}

func TestBreakerCountsCancellationThatIsNotTheCallers(t *testing.T) {
	b := breaker.New(breaker.Config{ConsecutiveFailures: 1})

	_ = b.Do(t.Context(), func(context.Context) error { return context.Canceled })

	assert.Equal(t, breaker.Open, b.State())
}

func TestCallerCancelOfProbeFreesItsSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := halfOpen(t, 1)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()

		_ = b.Do(ctx, func(ctx context.Context) error { return ctx.Err() })

		require.Equal(t, breaker.HalfOpen, b.State())
		assert.Equal(t, 1, run(b, 1, ok), "the next probe is admitted")
		assert.Equal(t, breaker.Closed, b.State())
	})
}

func TestPermitDoneTreatsCanceledAsCallersOwn(t *testing.T) {
	b := breaker.New(breaker.Config{ConsecutiveFailures: 1})
	p, err := b.Allow()
	require.NoError(t, err)

	p.Done(fmt.Errorf("read: %w", context.Canceled))

	assert.Equal(t, breaker.Closed, b.State())
	assert.Equal(t, 0, b.Metrics().Calls)
}

func TestPermitDoneTwiceCountsOnce(t *testing.T) {
	b := breaker.New(breaker.Config{ConsecutiveFailures: 2})
	p, err := b.Allow()
	require.NoError(t, err)

	p.Done(errBoom)
	p.Done(errBoom)

	m := b.Metrics()
	assert.Equal(t, breaker.Closed, m.State)
	assert.Equal(t, 1, m.Calls)
	assert.Equal(t, 1, m.Failures)
}

func TestZeroPermitDoneDoesNothing(t *testing.T) {
	var p breaker.Permit
	assert.NotPanics(t, func() { p.Done(errBoom) })
}

func TestIsFailureDecidesWhatCounts(t *testing.T) {
	errNotFound := errors.New("not found")
	b := breaker.New(breaker.Config{
		ConsecutiveFailures: 1,
		IsFailure:           func(err error) bool { return !errors.Is(err, errNotFound) },
	})

	run(b, 5, func(context.Context) error { return errNotFound })
	m := b.Metrics()
	require.Equal(t, breaker.Closed, m.State)
	assert.Equal(t, 5, m.Calls, "errors that are not failures count as successes")

	run(b, 1, boom)
	assert.Equal(t, breaker.Open, b.State())
}

func TestIsFailureIsNotAskedAboutCallerCancel(t *testing.T) {
	b := breaker.New(breaker.Config{
		ConsecutiveFailures: 1,
		IsFailure:           func(error) bool { return true },
	})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	_ = b.Do(ctx, func(ctx context.Context) error { return ctx.Err() })

	assert.Equal(t, breaker.Closed, b.State())
}

func TestTwoStepAllowAndDoneTripsLikeDo(t *testing.T) {
	b := breaker.New(breaker.Config{ConsecutiveFailures: 3})
	for range 3 {
		p, err := b.Allow()
		require.NoError(t, err)
		p.Done(errBoom)
	}

	_, err := b.Allow()

	assert.ErrorIs(t, err, breaker.ErrOpen)
}
