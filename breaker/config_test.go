package breaker_test

import (
	"math"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/breaker"
)

func TestZeroConfigTripsAtHalfOfTwentyCalls(t *testing.T) {
	b := breaker.New(breaker.Config{})
	run(b, 10, ok)
	run(b, 9, boom)
	require.Equal(t, breaker.Closed, b.State(), "19 calls are below MinCalls")

	run(b, 1, boom)

	assert.Equal(t, breaker.Open, b.State())
}

func TestZeroConfigStaysOpenFiveSeconds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1})
		run(b, 1, boom)

		err := b.Do(t.Context(), ok)

		assert.ErrorIs(t, err, breaker.ErrOpen)
		assert.Equal(t, 5*time.Second, retryAfter(t, err))
	})
}

func TestZeroConfigWindowHoldsOneHundredCalls(t *testing.T) {
	b := breaker.New(breaker.Config{})
	run(b, 150, ok)

	assert.Equal(t, 100, b.Metrics().Calls)
}

func TestMinCallsAboveWindowSizeIsTakenAsWindowSize(t *testing.T) {
	b := breaker.New(breaker.Config{WindowSize: 10})
	run(b, 9, boom)
	require.Equal(t, breaker.Closed, b.State())

	run(b, 1, boom)

	assert.Equal(t, breaker.Open, b.State())
}

// invalidConfigs are configurations that can never be right.
var invalidConfigs = map[string]breaker.Config{
	"negative WindowSize":          {WindowSize: -1},
	"negative Window":              {Window: -time.Second},
	"negative MinCalls":            {MinCalls: -1},
	"negative FailureRate":         {FailureRate: -0.1},
	"FailureRate above one":        {FailureRate: 1.5},
	"NaN FailureRate":              {FailureRate: math.NaN()},
	"negative SlowCallDuration":    {SlowCallDuration: -1},
	"SlowCallRate above one":       {SlowCallRate: 2},
	"negative ConsecutiveFailures": {ConsecutiveFailures: -3},
	"negative OpenFor":             {OpenFor: -time.Second},
	"negative MaxOpenFor":          {MaxOpenFor: -time.Second},
	"MaxOpenFor below OpenFor":     {OpenFor: 10 * time.Second, MaxOpenFor: time.Second},
	"MaxOpenFor below default":     {MaxOpenFor: time.Second},
	"negative HalfOpenProbes":      {HalfOpenProbes: -1},
}

func TestNewPanicsOnInvalidConfig(t *testing.T) {
	for name, c := range invalidConfigs {
		t.Run(name, func(t *testing.T) {
			defer func() {
				msg, _ := recover().(string)
				assert.True(t, strings.HasPrefix(msg, "breaker: "), "panic message %q", msg)
			}()
			breaker.New(c)
			t.Error("New did not panic")
		})
	}
}

func TestValidateReportsWhatNewPanicsOn(t *testing.T) {
	for name, c := range invalidConfigs {
		t.Run(name, func(t *testing.T) {
			err := c.Validate()
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), "breaker: "), "error %q", err)
			assert.PanicsWithValue(t, err.Error(), func() { breaker.New(c) })
		})
	}
}

func TestValidateAcceptsWhatNewAccepts(t *testing.T) {
	for name, c := range map[string]breaker.Config{
		"zero":                 {},
		"every field set":      {WindowSize: 10, MinCalls: 5, FailureRate: 1, SlowCallDuration: time.Second, SlowCallRate: 0.1, ConsecutiveFailures: 3, OpenFor: time.Second, MaxOpenFor: time.Minute, HalfOpenProbes: 2},
		"time window":          {Window: time.Minute},
		"MinCalls above size":  {WindowSize: 5, MinCalls: 50},
		"MaxOpenFor = OpenFor": {OpenFor: time.Second, MaxOpenFor: time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			assert.NoError(t, c.Validate())
			assert.NotPanics(t, func() { breaker.New(c) })
		})
	}
}

func TestStateStrings(t *testing.T) {
	assert.Equal(t, "closed", breaker.Closed.String())
	assert.Equal(t, "open", breaker.Open.String())
	assert.Equal(t, "half-open", breaker.HalfOpen.String())
}
