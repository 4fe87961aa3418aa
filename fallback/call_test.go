package fallback_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/fallback"
	"github.com/magicmagnets/resilience/resiliencetest"
)

// takes returns a call that takes d and then returns err.
func takes(d time.Duration, err error) resilience.Func {
	return func(context.Context) error {
		time.Sleep(d)
		return err
	}
}

func TestPolicyObserverSeesEveryCallWithItsDurationAndOutcome(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &resiliencetest.Recorder{}
		errBad, errFallback := errors.New("bad request"), errors.New("fallback failed too")
		p := fallback.New(fallback.Config{
			Name: "quotes",
			Fallback: func(_ context.Context, err error) error {
				time.Sleep(2 * time.Second)
				if errors.Is(err, errDown) {
					return nil
				}
				return errFallback
			},
			FallbackIf: func(err error) bool { return !errors.Is(err, errBad) },
			Observer:   rec,
		})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()

		_ = p.Do(t.Context(), takes(time.Second, nil))                      // success
		_ = p.Do(t.Context(), takes(time.Second, errDown))                  // answered: absorbed
		_ = p.Do(t.Context(), takes(time.Second, errors.New("timeout")))    // answered: the fallback's error
		_ = p.Do(t.Context(), takes(time.Second, errBad))                   // not answered
		_ = p.Do(ctx, func(ctx context.Context) error { return ctx.Err() }) // the caller's own cancellation

		calls := ofKind(rec, resilience.KindCall)
		assert.Equal(t, []resilience.Event{
			{Policy: "fallback", Name: "quotes", Kind: resilience.KindCall, Duration: time.Second},
			{Policy: "fallback", Name: "quotes", Kind: resilience.KindCall, Duration: 3 * time.Second},
			{Policy: "fallback", Name: "quotes", Kind: resilience.KindCall, Duration: 3 * time.Second, Err: errFallback},
			{Policy: "fallback", Name: "quotes", Kind: resilience.KindCall, Duration: time.Second, Err: errBad},
			{Policy: "fallback", Name: "quotes", Kind: resilience.KindCall, Err: context.Canceled},
		}, calls, "how long each took, the fallback included, and what Do returned")
		assert.Len(t, fallbacks(rec), 2)
	})
}

func TestPolicyCallIsTheLastEventOfItsCall(t *testing.T) {
	rec := &resiliencetest.Recorder{}
	p := fallback.New(fallback.Config{Fallback: absorb, Observer: rec})

	_ = p.Do(t.Context(), failing(errDown))

	var kinds []resilience.Kind
	for _, e := range rec.Events() {
		kinds = append(kinds, e.Kind)
	}
	assert.Equal(t, []resilience.Kind{resilience.KindFallback, resilience.KindCall}, kinds)
}

func TestCacheObserverSeesEveryCallWithItsDurationAndOutcome(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &resiliencetest.Recorder{}
		c := newRates(fallback.CacheConfig{Name: "rates", Observer: rec})
		slow := func(d time.Duration, v float64, err error) func(context.Context) (float64, error) {
			return func(context.Context) (float64, error) {
				time.Sleep(d)
				return v, err
			}
		}

		_, _ = c.Do(t.Context(), "EUR", slow(time.Second, 1.08, nil))    // fresh
		_, _ = c.Do(t.Context(), "EUR", slow(2*time.Second, 0, errDown)) // stale value served
		_, _ = c.Do(t.Context(), "GBP", slow(3*time.Second, 0, errDown)) // nothing to serve

		assert.Equal(t, []resilience.Event{
			{Policy: "fallback", Name: "rates", Kind: resilience.KindCall, Duration: time.Second},
			{Policy: "fallback", Name: "rates", Kind: resilience.KindCall, Duration: 2 * time.Second},
			{Policy: "fallback", Name: "rates", Kind: resilience.KindCall, Duration: 3 * time.Second, Err: errDown},
		}, ofKind(rec, resilience.KindCall))
		var kinds []resilience.Kind
		for _, e := range rec.Events() {
			kinds = append(kinds, e.Kind)
		}
		assert.Equal(t, []resilience.Kind{
			resilience.KindCall, resilience.KindFallback, resilience.KindCall, resilience.KindCall,
		}, kinds, "a stale value's KindFallback comes before its call's KindCall")
	})
}

func TestCallThatPanicsIsNotObserved(t *testing.T) {
	rec := &resiliencetest.Recorder{}
	p := fallback.New(fallback.Config{Fallback: absorb, Observer: rec})
	c := newRates(fallback.CacheConfig{Observer: rec})

	assert.Panics(t, func() { _ = p.Do(t.Context(), func(context.Context) error { panic("boom") }) })
	assert.Panics(t, func() {
		_, _ = c.Do(t.Context(), "EUR", func(context.Context) (float64, error) { panic("boom") })
	})

	assert.Empty(t, rec.Events(), "a call that panics has no outcome")
}
