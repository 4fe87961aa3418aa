package adaptive_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/adaptive"
	"github.com/magicmagnets/resilience/resiliencetest"
)

// fixed is a backoff.Rand that always returns its value.
type fixed float64

func (f fixed) Float64() float64 { return float64(f) }

// never is a Rand under which no request is rejected (the probability is at
// most MaxRejectRate ≤ 1, and a request is rejected when the draw is below it).
const never = fixed(1)

var errOverloaded = fmt.Errorf("backend: %w", resilience.ErrRejected)

func overloaded(context.Context) error { return errOverloaded }

func accepted(context.Context) error { return nil }

// feed runs n calls of fn through th.
func feed(th *adaptive.Throttler, n int, fn resilience.Func) {
	for range n {
		_ = th.Do(context.Background(), fn)
	}
}

func TestThrottlerProbabilityIsTheSREFormula(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		th := adaptive.NewThrottler(adaptive.ThrottlerConfig{Rand: never, MaxRejectRate: 1})
		feed(th, 19, overloaded)
		assert.Zero(t, th.RejectProbability(), "19 requests: below MinRequests 20")
		feed(th, 1, overloaded)
		assert.InDelta(t, 20.0/21, th.RejectProbability(), 1e-12, "(20 − 2·0)/(20+1)")
		feed(th, 10, accepted)
		assert.InDelta(t, (30-2*10)/31.0, th.RejectProbability(), 1e-12)
		feed(th, 5, accepted)
		assert.InDelta(t, (35-2*15)/36.0, th.RejectProbability(), 1e-12)
		feed(th, 5, accepted)
		assert.Zero(t, th.RejectProbability(), "(40 − 2·20) gives 0")
		feed(th, 5, accepted)
		assert.Zero(t, th.RejectProbability(), "(45 − 2·25) < 0 gives 0")
		feed(th, 1000, overloaded)
		assert.InDelta(t, (1045-2*25)/1046.0, th.RejectProbability(), 1e-12)
	})
}

func TestThrottlerCapsTheProbability(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		th := adaptive.NewThrottler(adaptive.ThrottlerConfig{Rand: never})
		feed(th, 100, overloaded)
		assert.Equal(t, 0.9, th.RejectProbability(), "MaxRejectRate's default")
	})
}

func TestThrottlerRejectsWithTheDrawnProbabilityAndCountsTheRejection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var draw fixed = never
		rec := &resiliencetest.Recorder{}
		th := adaptive.NewThrottler(adaptive.ThrottlerConfig{Name: "api", Rand: &draw, MaxRejectRate: 1, Observer: rec})
		feed(th, 30, overloaded)
		feed(th, 10, accepted)
		p := (40 - 2*10) / 41.0
		require.InDelta(t, p, th.RejectProbability(), 1e-12)

		draw = fixed(p) // not below p: let through
		_, err := th.Allow()
		require.NoError(t, err)
		assert.InDelta(t, p, th.RejectProbability(), 1e-12, "a permit not yet ended counts nothing")

		draw = fixed(p - 1e-9)
		rec.Reset()
		ran := false
		err = th.Do(context.Background(), func(context.Context) error { ran = true; return nil })
		require.ErrorIs(t, err, adaptive.ErrThrottled)
		assert.ErrorIs(t, err, resilience.ErrRejected)
		assert.Equal(t, "adaptive: throttled", err.Error())
		assert.False(t, ran)
		assert.InDelta(t, (41-2*10)/42.0, th.RejectProbability(), 1e-12, "the rejection is a request, not an accept")

		kinds := []resilience.Kind{}
		for _, e := range rec.Events() {
			kinds = append(kinds, e.Kind)
			assert.Equal(t, "api", e.Name)
			assert.Equal(t, "adaptive", e.Policy)
			assert.ErrorIs(t, e.Err, adaptive.ErrThrottled)
		}
		assert.Equal(t, []resilience.Kind{resilience.KindRejected, resilience.KindCall}, kinds)
	})
}

func TestThrottlerWindowSlides(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// A one-minute window in 60 buckets of one second.
		th := adaptive.NewThrottler(adaptive.ThrottlerConfig{Window: time.Minute, Rand: never, MaxRejectRate: 1})
		feed(th, 30, overloaded) // t = 0
		time.Sleep(30 * time.Second)
		feed(th, 20, accepted) // t = 30s
		time.Sleep(29 * time.Second)
		assert.InDelta(t, (50-2*20)/51.0, th.RejectProbability(), 1e-12, "at 59s: 50 requests, 20 accepts")
		time.Sleep(time.Second)
		assert.Zero(t, th.RejectProbability(), "at 60s the first bucket is gone: 20 requests, 20 accepts")
		feed(th, 30, overloaded)
		assert.InDelta(t, (50-2*20)/51.0, th.RejectProbability(), 1e-12)
		time.Sleep(30 * time.Second)
		assert.InDelta(t, 30/31.0, th.RejectProbability(), 1e-12, "at 90s the accepts are gone")
		time.Sleep(time.Minute)
		assert.Zero(t, th.RejectProbability(), "an empty window rejects nothing")
	})
}

func TestThrottlerCountsAnyNonOverloadOutcomeAsAccepted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		th := adaptive.NewThrottler(adaptive.ThrottlerConfig{Rand: never, MaxRejectRate: 1, MinRequests: 1})
		feed(th, 10, func(context.Context) error { return errBoom })
		assert.Zero(t, th.RejectProbability(), "an ordinary error is an accept: the backend answered")
		feed(th, 30, func(context.Context) error { return context.DeadlineExceeded })
		assert.InDelta(t, (40-2*10)/41.0, th.RejectProbability(), 1e-12, "an attempt's timeout is overload")
		feed(th, 40, func(context.Context) error { return overload(true) })
		assert.InDelta(t, (80-2*10)/81.0, th.RejectProbability(), 1e-12, "an error marked Overload() is overload")
	})
}

func TestThrottlerIsOverloadReplacesTheDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		th := adaptive.NewThrottler(adaptive.ThrottlerConfig{Rand: never, MaxRejectRate: 1,
			IsOverload: func(err error) bool { return err == errBoom }})
		feed(th, 20, overloaded)
		assert.Zero(t, th.RejectProbability())
		feed(th, 20, func(context.Context) error { return errBoom })
		assert.InDelta(t, (40-2*20)/41.0, th.RejectProbability(), 1e-12)
		feed(th, 20, func(context.Context) error { return errBoom })
		assert.InDelta(t, (60-2*20)/61.0, th.RejectProbability(), 1e-12)
	})
}

func TestThrottlerCountsNeitherTheCallersOwnEndNorIgnore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		th := adaptive.NewThrottler(adaptive.ThrottlerConfig{Rand: never, MaxRejectRate: 1})
		feed(th, 20, overloaded)
		p := th.RejectProbability()
		require.InDelta(t, 20/21.0, p, 1e-12)

		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		err := th.Do(ctx, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
		require.ErrorIs(t, err, context.DeadlineExceeded)
		ctx, cancel = context.WithCancel(context.Background())
		err = th.Do(ctx, func(context.Context) error { cancel(); return context.Canceled })
		require.ErrorIs(t, err, context.Canceled)
		err = th.Do(ctx, accepted)
		require.ErrorIs(t, err, context.Canceled, "a context already done runs nothing")
		permit, err := th.Allow()
		require.NoError(t, err)
		permit.Ignore()
		adaptive.ThrottlePermit{}.Done(nil) // the zero permit ends as a no-op
		assert.Equal(t, p, th.RejectProbability(), "nothing was counted")

		feed(th, 1, accepted)
		assert.InDelta(t, (21-2)/22.0, th.RejectProbability(), 1e-12, "an accept would have been")
		assert.ErrorIs(t, th.Do(context.Background(), nil), resilience.ErrNilFunc)
	})
}

func TestThrottlerCountsNothingWhenFnPanics(t *testing.T) {
	th := adaptive.NewThrottler(adaptive.ThrottlerConfig{Rand: never, MinRequests: 1, MaxRejectRate: 1})
	assert.Panics(t, func() {
		_ = th.Do(context.Background(), func(context.Context) error { panic("fn") })
	})
	feed(th, 1, overloaded)
	assert.InDelta(t, 1/2.0, th.RejectProbability(), 1e-12, "only the overloaded call is counted")
}

// TestThrottlerCapsTheBackendsLoadAtKTimesItsAccepts reproduces the SRE
// book's claim: a client offering ten times what a backend accepts sends it
// only about K times what it accepts, once the window has filled.
func TestThrottlerCapsTheBackendsLoadAtKTimesItsAccepts(t *testing.T) {
	for _, k := range []float64{2, 1.5} {
		t.Run(fmt.Sprint("K=", k), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const (
					offered  = 500 // requests a second from the client
					capacity = 50  // what the backend accepts a second: 10% of it
				)
				th := adaptive.NewThrottler(adaptive.ThrottlerConfig{K: k, Rand: rand.New(rand.NewPCG(1, 2))})
				start := time.Now()
				var second, acceptedThisSecond int
				reached, accepts := 0, 0
				backend := func(context.Context) error {
					if s := int(time.Since(start) / time.Second); s != second {
						second, acceptedThisSecond = s, 0
					}
					if second >= 120 { // count after the two-minute window has filled
						reached++
					}
					if acceptedThisSecond == capacity {
						return overload(true)
					}
					acceptedThisSecond++
					if second >= 120 {
						accepts++
					}
					return nil
				}
				for range 600 * offered / 10 { // ten minutes, ten requests every 20ms
					feed(th, 10, backend)
					time.Sleep(20 * time.Millisecond)
				}
				ratio := float64(reached) / float64(accepts)
				t.Logf("K=%v: the backend saw %d requests and accepted %d (%.2f×), of %d offered", k, reached, accepts, ratio, 480*offered)
				assert.InDelta(t, k, ratio, 0.1*k, "the backend sees about K × what it accepts")
				assert.InDelta(t, 480*capacity, accepts, 480*capacity*0.02, "and still accepts its capacity")
			})
		})
	}
}

func TestThrottlerIsRaceFree(t *testing.T) {
	th := adaptive.NewThrottler(adaptive.ThrottlerConfig{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 2000 {
				fn := accepted
				if (i+j)%3 != 0 {
					fn = overloaded
				}
				_ = th.Do(context.Background(), fn)
			}
		})
	}
	wg.Wait()
	p := th.RejectProbability()
	assert.True(t, p > 0 && p <= 0.9, "two thirds of the calls overloaded: %v", p)
}

func TestThrottlerConfigValidate(t *testing.T) {
	cases := []struct {
		c    adaptive.ThrottlerConfig
		want string
	}{
		{adaptive.ThrottlerConfig{K: 0.5}, "K 0.5 must be at least 1"},
		{adaptive.ThrottlerConfig{K: -1}, "K -1 must be at least 1"},
		{adaptive.ThrottlerConfig{K: nan()}, "K NaN"},
		{adaptive.ThrottlerConfig{K: inf()}, "K +Inf"},
		{adaptive.ThrottlerConfig{Window: -time.Second}, "Window -1s must be at least 60ns"},
		{adaptive.ThrottlerConfig{Window: 59}, "Window 59ns"},
		{adaptive.ThrottlerConfig{MinRequests: -1}, "MinRequests -1 must not be negative"},
		{adaptive.ThrottlerConfig{MaxRejectRate: 1.5}, "MaxRejectRate 1.5 must be in (0, 1]"},
		{adaptive.ThrottlerConfig{MaxRejectRate: -0.1}, "MaxRejectRate -0.1"},
		{adaptive.ThrottlerConfig{MaxRejectRate: nan()}, "MaxRejectRate NaN"},
	}
	for _, c := range cases {
		err := c.c.Validate()
		require.Error(t, err, "%+v", c.c)
		assert.Contains(t, err.Error(), c.want)
		assert.True(t, strings.HasPrefix(err.Error(), "adaptive: "))
		assert.PanicsWithValue(t, err.Error(), func() { adaptive.NewThrottler(c.c) })
	}
	for _, c := range []adaptive.ThrottlerConfig{{}, {K: 1}, {Window: 60}, {MaxRejectRate: 1}} {
		assert.NoError(t, c.Validate(), "%+v", c)
	}
}

func TestThrottlerDecisionAllocatesNothing(t *testing.T) {
	for _, obs := range []resilience.Observer{nil, resilience.ObserverFunc(func(resilience.Event) {})} {
		th := adaptive.NewThrottler(adaptive.ThrottlerConfig{Observer: obs})
		assert.Zero(t, testing.AllocsPerRun(1000, func() {
			p, err := th.Allow()
			if err == nil {
				p.Done(nil)
			}
		}))
		ctx := context.Background()
		assert.Zero(t, testing.AllocsPerRun(1000, func() { _ = th.Do(ctx, accepted) }))
		assert.Zero(t, testing.AllocsPerRun(1000, func() { _ = th.Do(ctx, overloaded) }), "a rejection allocates nothing either")
	}
}

func TestThrottlerCountsARequestWhenItEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		th := adaptive.NewThrottler(adaptive.ThrottlerConfig{Window: time.Minute, MinRequests: 1, MaxRejectRate: 1, Rand: never})
		early, err := th.Allow() // t = 0
		require.NoError(t, err)
		time.Sleep(30 * time.Second)
		late, err := th.Allow() // t = 30s
		require.NoError(t, err)
		late.Done(errOverloaded) // counted at 30s
		time.Sleep(20 * time.Second)
		early.Done(errOverloaded) // counted at 50s, not at 0
		assert.InDelta(t, 2/3.0, th.RejectProbability(), 1e-12)
		time.Sleep(40 * time.Second) // t = 90s: the bucket of 30s has left the window
		assert.InDelta(t, 1/2.0, th.RejectProbability(), 1e-12, "the request that ended at 50s is still counted")
		time.Sleep(20 * time.Second) // t = 110s
		assert.Zero(t, th.RejectProbability())
	})
}
