package breaker_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
)

// panicOn is an Observer that panics on the events its match selects.
type panicOn func(resilience.Event) bool

func (p panicOn) Observe(e resilience.Event) {
	if p(e) {
		panic("observer panic")
	}
}

// transition selects the state change from>to.
func transition(from, to string) panicOn {
	return func(e resilience.Event) bool {
		return e.Kind == resilience.KindStateChange && e.From == from && e.To == to
	}
}

// kind selects every event of kind k.
func kind(k resilience.Kind) panicOn {
	return func(e resilience.Event) bool { return e.Kind == k }
}

func TestObserverPanickingOnTripLeavesBreakerOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: time.Second, Observer: transition("closed", "open")})

		assert.PanicsWithValue(t, "observer panic", func() { run(b, 1, boom) })

		m := b.Metrics()
		assert.Equal(t, breaker.Open, m.State)
		assert.Equal(t, 1, m.Trips)
		assert.Zero(t, run(b, 1, ok))
		time.Sleep(time.Second)
		assert.Equal(t, 1, run(b, 1, ok), "the probe is admitted")
		assert.Equal(t, breaker.Closed, b.State())
	})
}

func TestObserverPanickingOnHalfOpenDoesNotWedgeTheBreaker(t *testing.T) {
	// The transition happens lazily in whichever call comes first; each must
	// leave the probe slot free when the observer panics.
	for name, first := range map[string]func(*breaker.Breaker){
		"Do":      func(b *breaker.Breaker) { run(b, 1, ok) },
		"Allow":   func(b *breaker.Breaker) { _, _ = b.Allow() },
		"State":   func(b *breaker.Breaker) { _ = b.State() },
		"Metrics": func(b *breaker.Breaker) { _ = b.Metrics() },
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: time.Second, Observer: transition("open", "half-open")})
				run(b, 1, boom)
				time.Sleep(time.Second)

				assert.PanicsWithValue(t, "observer panic", func() { first(b) })

				m := b.Metrics()
				require.Equal(t, breaker.HalfOpen, m.State)
				assert.Equal(t, 0, m.Probes, "no probe slot is held")
				assert.Equal(t, 1, run(b, 1, ok), "the next call is admitted as the probe")
				assert.Equal(t, breaker.Closed, b.State())
			})
		})
	}
}

func TestObserverPanickingOnReopenLeavesBreakerOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: time.Second, MaxOpenFor: time.Minute, Observer: transition("half-open", "open")})
		run(b, 1, boom)
		time.Sleep(time.Second)

		assert.PanicsWithValue(t, "observer panic", func() { run(b, 1, boom) })

		m := b.Metrics()
		assert.Equal(t, breaker.Open, m.State)
		assert.Equal(t, 0, m.Probes)
		assert.Equal(t, 2*time.Second, m.OpenFor)
		time.Sleep(2 * time.Second)
		assert.Equal(t, 1, run(b, 1, ok))
		assert.Equal(t, breaker.Closed, b.State())
	})
}

func TestObserverPanickingOnCloseLeavesBreakerClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: time.Second, Observer: transition("half-open", "closed")})
		run(b, 1, boom)
		time.Sleep(time.Second)

		assert.PanicsWithValue(t, "observer panic", func() { run(b, 1, ok) })

		m := b.Metrics()
		assert.Equal(t, breaker.Closed, m.State)
		assert.Equal(t, 0, m.Calls, "a fresh window")
		assert.Equal(t, 5, run(b, 5, ok))
	})
}

func TestObserverPanickingOnRejectionLeavesStateAlone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: time.Second, Observer: kind(resilience.KindRejected)})
		run(b, 1, boom)

		assert.Panics(t, func() { run(b, 1, ok) })
		time.Sleep(time.Second)
		p, err := b.Allow()
		require.NoError(t, err)
		assert.Panics(t, func() { _, _ = b.Allow() }, "rejected while the probe is out")
		p.Done(nil)

		m := b.Metrics()
		assert.Equal(t, breaker.Closed, m.State)
		assert.Equal(t, 2, m.Rejected)
	})
}

func TestObserverPanickingOnSlowProbeStillRecordsIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: time.Second, SlowCallDuration: time.Second, Observer: kind(resilience.KindSlowCall)})
		run(b, 1, boom)
		time.Sleep(time.Second)

		assert.Panics(t, func() {
			run(b, 1, func(context.Context) error { time.Sleep(2 * time.Second); return nil })
		})

		m := b.Metrics()
		assert.Equal(t, breaker.Open, m.State, "the slow probe reopened the breaker")
		assert.Equal(t, 0, m.Probes)
	})
}

func TestObserverPanickingOnManualChangesLeavesTheirState(t *testing.T) {
	b := breaker.New(breaker.Config{Observer: kind(resilience.KindStateChange)})

	assert.Panics(t, b.ForceOpen)
	assert.Equal(t, breaker.Open, b.State())
	assert.Zero(t, run(b, 1, ok))
	assert.Panics(t, b.Disable)
	assert.Equal(t, breaker.Closed, b.State())
	assert.Panics(t, b.ForceOpen)
	assert.Panics(t, b.Reset)
	assert.Equal(t, breaker.Closed, b.State())
	assert.Equal(t, 1, run(b, 1, ok))
}

func TestHookPanickingInPermitDoneFreesTheProbeSlot(t *testing.T) {
	for name, c := range map[string]breaker.Config{
		"IsFailure": {IsFailure: func(error) bool { panic("hook panic") }},
		"Ignore":    {Ignore: func(error) bool { panic("hook panic") }},
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c.ConsecutiveFailures, c.OpenFor = 1, time.Second
				b := breaker.New(c)
				assert.Equal(t, 1, run(b, 1, ok), "hooks are not asked about a success")
				assert.PanicsWithValue(t, "hook panic", func() { run(b, 1, boom) })
				require.Equal(t, breaker.Open, b.State(), "a panicking hook counts the call as a failure")
				time.Sleep(time.Second)

				probe, err := b.Allow()
				require.NoError(t, err)
				assert.PanicsWithValue(t, "hook panic", func() { probe.Done(errBoom) })

				m := b.Metrics()
				assert.Equal(t, breaker.Open, m.State)
				assert.Equal(t, 0, m.Probes, "the probe slot is not held")
				probe.Done(nil)
				assert.Equal(t, breaker.Open, b.State(), "the permit was used up")
			})
		})
	}
}
