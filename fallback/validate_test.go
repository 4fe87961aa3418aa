package fallback_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/fallback"
)

func TestConfigValidateReportsWhatNewPanicsOn(t *testing.T) {
	err := fallback.Config{}.Validate()
	require.Error(t, err)
	assert.PanicsWithValue(t, err.Error(), func() { fallback.New(fallback.Config{}) })

	ok := fallback.Config{Fallback: fallback.Error(errDown)}
	assert.NoError(t, ok.Validate())
	assert.NotPanics(t, func() { fallback.New(ok) })
}

func TestCacheConfigValidateReportsWhatNewCachePanicsOn(t *testing.T) {
	for _, c := range []fallback.CacheConfig{
		{MaxKeys: -1},
		{MaxStale: -time.Second},
		{MaxKeys: -1, MaxStale: -1},
	} {
		err := c.Validate()
		require.Error(t, err, "%+v", c)
		assert.PanicsWithValue(t, err.Error(), func() { newRates(c) }, "%+v", c)
	}
	for _, c := range []fallback.CacheConfig{{}, {MaxKeys: 1, MaxStale: time.Nanosecond}} {
		assert.NoError(t, c.Validate(), "%+v", c)
		assert.NotPanics(t, func() { newRates(c) }, "%+v", c)
	}
}

// absorbing is a policy with a fallback inside it that answers every
// failure with nil, so a failed call looks successful from outside.
var absorbing = fallback.New(fallback.Config{Fallback: func(context.Context, error) error { return nil }})

// TestCacheDoesNotRememberAnAbsorbedFailureAsAValue: the failure absorbed
// by a fallback inside the policy that fn runs leaves no value; the cache
// serves the last good one instead of remembering the zero value as fresh.
func TestCacheDoesNotRememberAnAbsorbedFailureAsAValue(t *testing.T) {
	c := newRates(fallback.CacheConfig{})
	ctx := context.Background()
	absorbed := func(ctx context.Context) (float64, error) {
		return resilience.DoValue(ctx, absorbing, value(0.0, errDown))
	}
	_, err := c.Do(ctx, "EUR", value(1.08, nil))
	require.NoError(t, err)

	got, err := c.Do(ctx, "EUR", absorbed)
	require.NoError(t, err)
	assert.True(t, got.Stale)
	assert.Equal(t, 1.08, got.Value)
	assert.ErrorIs(t, got.Err, resilience.ErrNoValue)

	_, err = c.Do(ctx, "USD", absorbed)
	assert.ErrorIs(t, err, resilience.ErrNoValue, "no value remembered for USD")
	assert.Equal(t, 1, c.Len())
}

func TestDoValueAnswersAnAbsorbedFailure(t *testing.T) {
	var seen []error
	got, err := fallback.DoValue(context.Background(), absorbing, value(0, errDown), defaultLimit(100, &seen))
	require.NoError(t, err)
	assert.Equal(t, 100, got)
	require.Len(t, seen, 1)
	assert.ErrorIs(t, seen[0], resilience.ErrNoValue)
}
