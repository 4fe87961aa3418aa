package fallback_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/fallback"
)

func value[T any](v T, err error) func(context.Context) (T, error) {
	return func(context.Context) (T, error) { return v, err }
}

// defaultLimit is a typed fallback that records the errors it is given.
func defaultLimit(limit int, seen *[]error) func(context.Context, error) (int, error) {
	return func(_ context.Context, err error) (int, error) {
		*seen = append(*seen, err)
		return limit, nil
	}
}

func TestDoValueReturnsTheCallsValueOnSuccess(t *testing.T) {
	var seen []error
	got, err := fallback.DoValue(context.Background(), direct, value(500, nil), defaultLimit(100, &seen))
	require.NoError(t, err)
	assert.Equal(t, 500, got)
	assert.Empty(t, seen)
}

func TestDoValueReturnsTheFallbacksValueOnFailure(t *testing.T) {
	var seen []error
	got, err := fallback.DoValue(context.Background(), direct, value(0, errDown), defaultLimit(100, &seen))
	require.NoError(t, err)
	assert.Equal(t, 100, got)
	assert.Equal(t, []error{errDown}, seen)
}

func TestDoValueIgnoresCallerCancel(t *testing.T) {
	var seen []error
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := fallback.DoValue(ctx, direct, func(ctx context.Context) (int, error) { return 0, ctx.Err() }, defaultLimit(100, &seen))
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, seen)
}

func TestDoValueRejectsNilArguments(t *testing.T) {
	var seen []error
	ctx := context.Background()
	_, err := fallback.DoValue(ctx, nil, value(1, nil), defaultLimit(100, &seen))
	assert.ErrorIs(t, err, resilience.ErrNilPolicy)
	_, err = fallback.DoValue(ctx, direct, nil, defaultLimit(100, &seen))
	assert.ErrorIs(t, err, resilience.ErrNilFunc)
	_, err = fallback.DoValue(ctx, direct, value(1, nil), nil)
	assert.ErrorIs(t, err, resilience.ErrNilFunc)
	assert.Empty(t, seen)
}

func TestDoValueFallsBackOnceRetriesOfInvalidAnswersGiveUp(t *testing.T) {
	errNegative := errors.New("negative limit")
	attempts := 0
	fetch := func(context.Context) (int, error) { attempts++; return -5, nil }
	check := func(limit int) error {
		if limit < 0 {
			return errNegative
		}
		return nil
	}
	var seen []error
	got, err := fallback.DoValue(context.Background(), retryN(3), resilience.Validate(fetch, check), defaultLimit(100, &seen))
	require.NoError(t, err)
	assert.Equal(t, 100, got)
	assert.Equal(t, 3, attempts)
	require.Len(t, seen, 1)
	assert.ErrorIs(t, seen[0], resilience.ErrInvalid)
	assert.ErrorIs(t, seen[0], errNegative)
}
