package resiliencedebug_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/resiliencedebug"
)

// limiter is a concurrency limit as bulkhead.Bulkhead and adaptive.Limiter
// are: its tile is that of the package it is declared in.
type limiter struct{ inFlight, limit int }

func (l *limiter) InFlight() int { return l.inFlight }
func (l *limiter) Limit() int    { return l.limit }

func TestRegisteredBreakerShowsItsStateFromTheStart(t *testing.T) {
	d := resiliencedebug.New(resiliencedebug.Config{})
	b := breaker.New(breaker.Config{Name: "db", ConsecutiveFailures: 1, OpenFor: time.Hour})
	d.Register("db", b)

	tl := tile(t, d, "breaker", "db")
	assert.Equal(t, "closed", tl.State, "before any event")
	require.NotNil(t, tl.Breaker)
	assert.Zero(t, tl.Breaker.Trips)

	// No Observer: the state is read from the breaker itself.
	_ = b.Do(context.Background(), func(context.Context) error { return errBoom })
	_ = b.Do(context.Background(), ok)
	tl = tile(t, d, "breaker", "db")
	assert.Equal(t, "open", tl.State)
	assert.Equal(t, 1, tl.Breaker.Trips)
	assert.Equal(t, 1, tl.Breaker.Rejected)
	assert.Greater(t, tl.Breaker.RetryAfter, 59*time.Minute)

	b.ForceOpen()
	assert.True(t, tile(t, d, "breaker", "db").Breaker.ForcedOpen)
	b.Disable()
	tl = tile(t, d, "breaker", "db")
	assert.Equal(t, "closed", tl.State)
	assert.True(t, tl.Breaker.Disabled)
}

func TestRegisteredLimiterShowsInFlightAndLimit(t *testing.T) {
	d := resiliencedebug.New(resiliencedebug.Config{})
	l := &limiter{inFlight: 3, limit: 10}
	d.Register("api", l)
	tl := tile(t, d, "resiliencedebug_test", "api")
	require.NotNil(t, tl.InFlight)
	require.NotNil(t, tl.Limit)
	assert.Equal(t, 3, *tl.InFlight)
	assert.Equal(t, 10, *tl.Limit)
	l.inFlight = 7
	assert.Equal(t, 7, *tile(t, d, "resiliencedebug_test", "api").InFlight, "read at every snapshot")
	assert.Nil(t, tl.Breaker)
	assert.Empty(t, tl.State)
}

func TestRegisterReplacesTheSamePackageAndName(t *testing.T) {
	d := resiliencedebug.New(resiliencedebug.Config{})
	d.Register("api", &limiter{limit: 1})
	d.Register("api", &limiter{limit: 2})
	d.Register("api", breaker.New(breaker.Config{})) // another package: another tile
	assert.Len(t, d.Snapshot().Policies, 2)
	assert.Equal(t, 2, *tile(t, d, "resiliencedebug_test", "api").Limit)
}

func TestRegisterPanicsOnWhatItCannotRead(t *testing.T) {
	d := resiliencedebug.New(resiliencedebug.Config{})
	assert.PanicsWithValue(t, "resiliencedebug: Register of nil", func() { d.Register("x", nil) })
	assert.PanicsWithValue(t, "resiliencedebug: Register of a nil *breaker.Breaker", func() { d.Register("x", (*breaker.Breaker)(nil)) })
	assert.PanicsWithValue(t, "resiliencedebug: Register of a nil *resiliencedebug_test.limiter", func() { d.Register("x", (*limiter)(nil)) })
	assert.PanicsWithValue(t, "resiliencedebug: Register of a string, which is neither a *breaker.Breaker nor has InFlight() int and Limit() int", func() { d.Register("x", "breaker") })
}
