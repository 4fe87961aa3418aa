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

var errInvalid = errors.New("invalid order")

func TestInnerRejectionIsNotRecordedByDefault(t *testing.T) {
	b := breaker.New(breaker.Config{ConsecutiveFailures: 1})
	full := fmt.Errorf("bulkhead: full: %w", resilience.ErrRejected)

	err := b.Do(t.Context(), func(context.Context) error { return full })

	assert.Same(t, full, err)
	m := b.Metrics()
	assert.Equal(t, breaker.Closed, m.State, "an inner policy's rejection is not the dependency failing")
	assert.Equal(t, 0, m.Calls)
}

func TestInnerBreakerRejectionIsNotAFailureOfTheOuter(t *testing.T) {
	outer := breaker.New(breaker.Config{ConsecutiveFailures: 1})
	inner := breaker.New(breaker.Config{})
	inner.ForceOpen()

	err := resilience.Chain(outer, inner).Do(t.Context(), ok)

	assert.ErrorIs(t, err, breaker.ErrOpen)
	assert.Equal(t, breaker.Closed, outer.State())
	assert.Equal(t, 0, outer.Metrics().Calls)
}

func TestIgnoreDecidesWhatIsNeitherSuccessNorFailure(t *testing.T) {
	b := breaker.New(breaker.Config{
		ConsecutiveFailures: 2,
		Ignore:              func(err error) bool { return errors.Is(err, errInvalid) },
	})

	run(b, 1, boom)
	run(b, 5, func(context.Context) error { return errInvalid })
	m := b.Metrics()
	require.Equal(t, breaker.Closed, m.State)
	assert.Equal(t, 1, m.Calls, "ignored calls are not recorded")
	assert.Equal(t, 1, m.ConsecutiveFailures, "nor do they break a run of failures, as a success would")

	run(b, 1, boom)
	assert.Equal(t, breaker.Open, b.State())
}

func TestIgnoreReplacesTheDefault(t *testing.T) {
	b := breaker.New(breaker.Config{
		ConsecutiveFailures: 1,
		Ignore:              func(err error) bool { return errors.Is(err, errInvalid) },
	})

	_ = b.Do(t.Context(), func(context.Context) error { return resilience.ErrRejected })

	assert.Equal(t, breaker.Open, b.State(), "a rejection is a failure once Ignore no longer says otherwise")
}

func TestIgnoreIsAskedBeforeIsFailure(t *testing.T) {
	var askedIsFailure []error
	b := breaker.New(breaker.Config{
		ConsecutiveFailures: 1,
		Ignore:              func(err error) bool { return errors.Is(err, errInvalid) },
		IsFailure: func(err error) bool {
			askedIsFailure = append(askedIsFailure, err)
			return true
		},
	})

	run(b, 1, func(context.Context) error { return errInvalid })
	require.Equal(t, breaker.Closed, b.State())
	run(b, 1, boom)

	assert.Equal(t, []error{errBoom}, askedIsFailure)
	assert.Equal(t, breaker.Open, b.State())
}

func TestIgnoreIsNotAskedAboutSuccessOrCallerCancel(t *testing.T) {
	asked := 0
	b := breaker.New(breaker.Config{Ignore: func(error) bool { asked++; return false }})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	run(b, 3, ok)
	_ = b.Do(ctx, func(ctx context.Context) error { return ctx.Err() })

	assert.Zero(t, asked)
}

func TestIgnoredProbeFreesItsSlot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := halfOpen(t, 1)

		_ = b.Do(t.Context(), func(context.Context) error { return resilience.ErrRejected })

		require.Equal(t, breaker.HalfOpen, b.State())
		assert.Equal(t, 0, b.Metrics().Probes)
		assert.Equal(t, 1, run(b, 1, ok), "the next probe is admitted")
		assert.Equal(t, breaker.Closed, b.State())
	})
}

func TestPermitDoneIgnoresWhatIgnoreMatches(t *testing.T) {
	b := breaker.New(breaker.Config{ConsecutiveFailures: 1})
	p, err := b.Allow()
	require.NoError(t, err)

	p.Done(fmt.Errorf("limit: %w", resilience.ErrRejected))

	assert.Equal(t, breaker.Closed, b.State())
	assert.Equal(t, 0, b.Metrics().Calls)
}
