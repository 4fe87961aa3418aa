package resilienceotel_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/retry"
)

// limiter is a concurrency limit as bulkhead.Bulkhead and adaptive.Limiter
// are; its data points have the policy of the package it is declared in.
type limiter struct{ inFlight, limit int }

func (l *limiter) InFlight() int { return l.inFlight }
func (l *limiter) Limit() int    { return l.limit }

// gauge returns the int64 gauge named name, by attribute set.
func (c collected) gauge(t *testing.T, name string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	m, ok := c[name]
	if !ok {
		return out
	}
	g, ok := m.Data.(metricdata.Gauge[int64])
	require.True(t, ok, "%s is a %T, not an int64 gauge", name, m.Data)
	for _, dp := range g.DataPoints {
		out[attrs(dp.Attributes)] = dp.Value
	}
	return out
}

// upDown returns the int64 non-monotonic sum named name, by attribute set.
func (c collected) upDown(t *testing.T, name string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	m, ok := c[name]
	if !ok {
		return out
	}
	s, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "%s is a %T, not an int64 sum", name, m.Data)
	require.False(t, s.IsMonotonic)
	for _, dp := range s.DataPoints {
		out[attrs(dp.Attributes)] = dp.Value
	}
	return out
}

func TestBreakerStateIsReportedFromTheStart(t *testing.T) {
	obs, reader := setup(t)
	b := breaker.New(breaker.Config{Name: "db", ConsecutiveFailures: 1, OpenFor: time.Hour})
	obs.Register("db", b)

	assert.Equal(t, map[string]int64{
		"name=db,policy=breaker,state=closed":    1,
		"name=db,policy=breaker,state=open":      0,
		"name=db,policy=breaker,state=half-open": 0,
	}, collect(t, reader).gauge(t, "resilience.breaker.state"), "closed before any call or event")

	_ = b.Do(context.Background(), boom)
	assert.Equal(t, map[string]int64{
		"name=db,policy=breaker,state=closed":    0,
		"name=db,policy=breaker,state=open":      1,
		"name=db,policy=breaker,state=half-open": 0,
	}, collect(t, reader).gauge(t, "resilience.breaker.state"))

	b.Reset()
	assert.Equal(t, int64(1), collect(t, reader).gauge(t, "resilience.breaker.state")["name=db,policy=breaker,state=closed"])
}

func TestLimiterInFlightAndLimitAreReported(t *testing.T) {
	obs, reader := setup(t)
	l := &limiter{inFlight: 3, limit: 20}
	obs.Register("api", l)
	obs.Register("", &limiter{limit: 5})

	c := collect(t, reader)
	assert.Equal(t, map[string]int64{"name=api,policy=resilienceotel_test": 3, "policy=resilienceotel_test": 0}, c.upDown(t, "resilience.limit.in_flight"))
	assert.Equal(t, map[string]int64{"name=api,policy=resilienceotel_test": 20, "policy=resilienceotel_test": 5}, c.gauge(t, "resilience.limit.limit"))

	l.inFlight, l.limit = 9, 14
	c = collect(t, reader)
	assert.Equal(t, int64(9), c.upDown(t, "resilience.limit.in_flight")["name=api,policy=resilienceotel_test"])
	assert.Equal(t, int64(14), c.gauge(t, "resilience.limit.limit")["name=api,policy=resilienceotel_test"])
	assert.Empty(t, c.gauge(t, "resilience.breaker.state"), "no breaker registered")
}

func TestRegisterReplacesTheSamePackageAndName(t *testing.T) {
	obs, reader := setup(t)
	obs.Register("api", &limiter{limit: 1})
	obs.Register("api", &limiter{limit: 2})
	assert.Equal(t, map[string]int64{"name=api,policy=resilienceotel_test": 2}, collect(t, reader).gauge(t, "resilience.limit.limit"))
}

func TestRegisterPanicsOnWhatItCannotRead(t *testing.T) {
	obs, _ := setup(t)
	assert.PanicsWithValue(t, "resilienceotel: Register of nil", func() { obs.Register("x", nil) })
	assert.PanicsWithValue(t, "resilienceotel: Register of a nil *breaker.Breaker", func() { obs.Register("x", (*breaker.Breaker)(nil)) })
	assert.PanicsWithValue(t, "resilienceotel: Register of a nil *resilienceotel_test.limiter", func() { obs.Register("x", (*limiter)(nil)) })
	assert.PanicsWithValue(t, "resilienceotel: Register of a int, which is neither a *breaker.Breaker nor has InFlight() int and Limit() int", func() { obs.Register("x", 1) })
}

// A breaker registered with the Observer that is also its own Observer:
// reading its state in a collection may move it to half-open, and the state
// change it then emits is recorded without a deadlock.
func TestCollectingABreakerThatReportsToTheSameObserver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		obs, reader := setup(t)
		b := breaker.New(breaker.Config{Name: "db", ConsecutiveFailures: 1, OpenFor: time.Second, Observer: obs})
		obs.Register("db", b)
		_ = b.Do(context.Background(), boom)
		time.Sleep(time.Second) // OpenFor is up: the next State is half-open

		c := collect(t, reader)
		assert.Equal(t, int64(1), c.gauge(t, "resilience.breaker.state")["name=db,policy=breaker,state=half-open"])
		assert.Equal(t, int64(1), collect(t, reader).counts(t, "resilience.breaker.transitions")["from=open,name=db,policy=breaker,to=half-open"])
	})
}

func TestAttemptsPerCallAreRecorded(t *testing.T) {
	obs, reader := setup(t)
	r := retry.New(retry.Config{Name: "payments", MaxAttempts: 4, Backoff: backoff.Constant(0), Observer: obs})
	n := 0
	require.NoError(t, r.Do(context.Background(), func(context.Context) error {
		n++
		if n < 3 {
			return errBoom
		}
		return nil
	}))
	require.Error(t, r.Do(context.Background(), boom))
	// A policy that does not count attempts records none.
	obs.Observe(resilience.Event{Policy: "breaker", Kind: resilience.KindCall})

	m, ok := collect(t, reader)["resilience.call.attempts"]
	require.True(t, ok)
	h := m.Data.(metricdata.Histogram[int64])
	got := map[string][2]int64{}
	for _, dp := range h.DataPoints {
		got[attrs(dp.Attributes)] = [2]int64{int64(dp.Count), dp.Sum}
	}
	assert.Equal(t, map[string][2]int64{
		"name=payments,outcome=success,policy=retry": {1, 3},
		"name=payments,outcome=failure,policy=retry": {1, 4},
	}, got)
}
