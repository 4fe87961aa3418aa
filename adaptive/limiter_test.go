package adaptive_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/adaptive"
	"github.com/magicmagnets/resilience/resiliencetest"
)

func TestLimiterDefaultsAreNetflixsGradient2(t *testing.T) {
	l := adaptive.NewLimiter(adaptive.LimiterConfig{})
	assert.Equal(t, 20, l.Limit())
	assert.Equal(t, 0, l.InFlight())
	assert.Equal(t, "gradient2", adaptive.Algorithm(0).String())
}

func TestLimiterGradient2LowersTheLimitWhenLatencyRisesAndRecovers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// 64 callers against a limit of at most 100: the limiter is in use
		// (at least half the limit in flight), so Gradient2 moves it, once
		// a one-second window.
		l := adaptive.NewLimiter(adaptive.LimiterConfig{InitialLimit: 40, MinLimit: 5, MaxLimit: 100})
		var latency atomic.Int64
		latency.Store(int64(100 * time.Millisecond))
		stop := make(chan struct{})
		wg := load(l, 64, func() time.Duration { return time.Duration(latency.Load()) }, stop)

		time.Sleep(30 * time.Second)
		steady := l.Limit()
		require.Greater(t, steady, 55, "steady latency under load lets the limit grow, by up to 0.8 a window")

		latency.Store(int64(400 * time.Millisecond))
		lowest := steady
		for range 100 {
			time.Sleep(100 * time.Millisecond)
			lowest = min(lowest, l.Limit())
		}
		assert.Less(t, lowest, steady*2/3, "latency four times its average cuts the limit by about a tenth a window")

		latency.Store(int64(100 * time.Millisecond))
		time.Sleep(30 * time.Second)
		assert.Greater(t, l.Limit(), lowest+10, "the limit recovers once latency falls")
		t.Logf("limit: %d at 100ms, down to %d at 400ms, %d at 100ms again", steady, lowest, l.Limit())

		close(stop)
		wg.Wait()
		assert.Equal(t, 0, l.InFlight())
	})
}

func TestLimiterAIMDBacksOffOnADropAndAddsOnSuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := adaptive.NewLimiter(adaptive.LimiterConfig{Algorithm: adaptive.AIMD, InitialLimit: 100, MinLimit: 1})
		p, err := l.Allow()
		require.NoError(t, err)
		p.Done(context.DeadlineExceeded)
		assert.Equal(t, 90, l.Limit(), "a drop multiplies the limit by 0.9")
		p, _ = l.Allow()
		p.Done(fmt.Errorf("upstream: %w", resilience.ErrRejected))
		assert.Equal(t, 81, l.Limit(), "a refusal from downstream is a drop too")

		n := wave(l, 81, time.Millisecond, nil)
		require.Equal(t, 81, n)
		// The permits admitted with at least half the limit in flight
		// (41..81, as the limit grows by one with each) add one each.
		assert.Greater(t, l.Limit(), 81+30)
		before := l.Limit()
		p, _ = l.Allow()
		p.Done(nil)
		assert.Equal(t, before, l.Limit(), "a success with little in flight holds the limit")
		p, _ = l.Allow()
		p.Done(errBoom)
		assert.Equal(t, before, l.Limit(), "an error that is not a drop is sampled as a success")
	})
}

func TestLimiterAIMDTimesOutSlowCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := adaptive.NewLimiter(adaptive.LimiterConfig{Algorithm: adaptive.AIMD, InitialLimit: 50, MinLimit: 1})
		wave(l, 1, 6*time.Second, nil)
		assert.Equal(t, 45, l.Limit(), "a success slower than AIMD's 5s timeout counts as a drop")
	})
}

func TestLimiterVegasGrowsWithoutQueueingAndShrinksWithIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := adaptive.NewLimiter(adaptive.LimiterConfig{Algorithm: adaptive.Vegas, InitialLimit: 50, MinLimit: 5, MaxLimit: 1000})
		waves(l, 20*time.Second, 10*time.Millisecond, nil)
		grown := l.Limit()
		assert.Greater(t, grown, 150, "latency at its minimum: the limit grows by 6·log10 a window")

		// Latency three times its minimum is a queue of 2/3 of the limit:
		// the limit falls by log10 (2) a window. (Vegas measures its
		// minimum again after some 30 × limit windows, far beyond this.)
		waves(l, 20*time.Second, 30*time.Millisecond, nil)
		assert.Less(t, l.Limit(), grown-30)
		t.Logf("limit: %d at the minimum latency, %d after 20 s at three times it", grown, l.Limit())
	})
}

func TestLimiterKeepsWithinMinAndMax(t *testing.T) {
	for _, alg := range []adaptive.Algorithm{adaptive.Gradient2, adaptive.AIMD, adaptive.Vegas} {
		t.Run(alg.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := adaptive.NewLimiter(adaptive.LimiterConfig{Algorithm: alg, MinLimit: 10, MaxLimit: 30})
				assert.Equal(t, 20, l.Limit())
				waves(l, 40*time.Second, 10*time.Millisecond, nil)
				assert.Equal(t, 30, l.Limit(), "successes at full use stop at MaxLimit")
				waves(l, 40*time.Second, 10*time.Millisecond, context.DeadlineExceeded)
				assert.Equal(t, 10, l.Limit(), "drops stop at MinLimit")
			})
		})
	}
}

// noisyLoad runs workers that call l.Do without a pause, each call taking
// an exponential latency of mean 50 ms drawn from a seeded source, for d.
func noisyLoad(l *adaptive.Limiter, workers int, d time.Duration) {
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(17, 17))
	latency := func() time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return time.Duration(r.ExpFloat64() * float64(50*time.Millisecond))
	}
	stop := make(chan struct{})
	wg := load(l, workers, latency, stop)
	time.Sleep(d)
	close(stop)
	wg.Wait()
}

// The overload study's finding: a service with a noisy (exponential)
// service time, at a fixed concurrency well below its capacity, pinned
// Gradient2 to its floor when every call was a sample. Windows of calls
// let it grow until the callers use less than half of it.
func TestLimiterGradient2WindowsNoisyLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := adaptive.NewLimiter(adaptive.LimiterConfig{})
		noisyLoad(l, 40, 60*time.Second)
		assert.GreaterOrEqual(t, l.Limit(), 60, "40 callers: the limit grows to about twice what they use")
		t.Logf("windowed: %d", l.Limit())
	})
	synctest.Test(t, func(t *testing.T) {
		l := adaptive.NewLimiter(adaptive.LimiterConfig{Window: -1})
		noisyLoad(l, 40, 60*time.Second)
		assert.LessOrEqual(t, l.Limit(), 25, "every call a sample: held near MinLimit 20")
		t.Logf("per call: %d", l.Limit())
	})
}

func TestLimiterDropInAWindowLowersTheLimitAtItsEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &resiliencetest.Recorder{}
		l := adaptive.NewLimiter(adaptive.LimiterConfig{InitialLimit: 100, MinLimit: 1, MaxLimit: 1000, Observer: rec})
		wave(l, 1, 10*time.Millisecond, nil) // ends the first, one-sample window
		start := time.Now()
		for range 9 {
			wave(l, 100, 10*time.Millisecond, nil)
		}
		wave(l, 1, 10*time.Millisecond, context.DeadlineExceeded)
		assert.Equal(t, 100, l.Limit(), "the drop waits for its window to end")
		time.Sleep(time.Second - time.Since(start))
		wave(l, 1, 10*time.Millisecond, nil) // the first call to end after the window
		assert.Equal(t, 90, l.Limit(), "the window with a drop among 901 successes is the steepest fall: 0.9·100 + 0.8")
		ch := ofKind(rec, resilience.KindLimitChange)
		require.Len(t, ch, 1)
		assert.Equal(t, "100", ch[0].From)
		assert.Equal(t, "90", ch[0].To)
	})
}

func TestLimiterWindowChoosesHowCallsAreSampled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := adaptive.NewLimiter(adaptive.LimiterConfig{InitialLimit: 100, MinLimit: 1, MaxLimit: 1000, Window: -1})
		wave(l, 1, 10*time.Millisecond, context.DeadlineExceeded)
		assert.Equal(t, 90, l.Limit(), "negative: Gradient2 moves on every call")

		l = adaptive.NewLimiter(adaptive.LimiterConfig{Algorithm: adaptive.AIMD, InitialLimit: 100, MinLimit: 1, Window: 200 * time.Millisecond})
		wave(l, 1, 10*time.Millisecond, nil) // ends the first, one-sample window
		wave(l, 10, 10*time.Millisecond, context.DeadlineExceeded)
		assert.Equal(t, 100, l.Limit(), "positive: AIMD waits for the window")
		time.Sleep(200 * time.Millisecond)
		wave(l, 1, 10*time.Millisecond, nil)
		assert.Equal(t, 90, l.Limit(), "a window of eleven calls with drops is one drop")
	})
}

func TestLimiterNeverAdmitsMoreThanItsLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &resiliencetest.Recorder{}
		// AIMD without drops only grows, so the limit read inside fn is at
		// least the one the call was admitted under.
		l := adaptive.NewLimiter(adaptive.LimiterConfig{Algorithm: adaptive.AIMD, InitialLimit: 8, MinLimit: 1, MaxLimit: 30, Observer: rec})
		var running, most atomic.Int64
		var over atomic.Bool
		var wg sync.WaitGroup
		for i := range 64 {
			wg.Go(func() {
				for j := range 50 {
					_ = l.Do(context.Background(), func(context.Context) error {
						n := running.Add(1)
						defer running.Add(-1)
						if n > int64(l.Limit()) || n > int64(l.InFlight()) {
							over.Store(true)
						}
						for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
						}
						time.Sleep(time.Duration(1+(i+j)%5) * time.Millisecond)
						return nil
					})
					time.Sleep(time.Millisecond)
				}
			})
		}
		wg.Wait()
		assert.False(t, over.Load(), "more calls ran than the limit allowed")
		assert.Equal(t, int64(30), most.Load(), "64 callers fill the limit")
		assert.Equal(t, 0, l.InFlight())
		assert.NotZero(t, rec.Count(resilience.KindRejected))
	})
}

func TestLimiterConcurrentDoneIsRaceFree(t *testing.T) {
	l := adaptive.NewLimiter(adaptive.LimiterConfig{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 2000 {
				if p, err := l.Allow(); err == nil {
					p.Done(nil)
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 0, l.InFlight())
}

func TestLimiterIgnoreChangesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &resiliencetest.Recorder{}
		l := adaptive.NewLimiter(adaptive.LimiterConfig{Algorithm: adaptive.AIMD, InitialLimit: 50, MinLimit: 1, Observer: rec})
		p, err := l.Allow()
		require.NoError(t, err)
		assert.Equal(t, 1, l.InFlight())
		p.Ignore()
		assert.Equal(t, 0, l.InFlight())
		assert.Equal(t, 50, l.Limit())
		assert.Empty(t, rec.Events(), "Ignore emits nothing")

		p, _ = l.Allow()
		p.Done(context.DeadlineExceeded)
		assert.Equal(t, 45, l.Limit(), "the same call ended with Done would have lowered the limit")
		adaptive.Permit{}.Done(errBoom) // the zero Permit ends as a no-op
		adaptive.Permit{}.Ignore()
		assert.Equal(t, 0, l.InFlight())
	})
}

func TestLimiterIgnoresTheCallersOwnEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &resiliencetest.Recorder{}
		l := adaptive.NewLimiter(adaptive.LimiterConfig{Algorithm: adaptive.AIMD, InitialLimit: 50, MinLimit: 1, Observer: rec})

		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		err := l.Do(ctx, func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		})
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 50, l.Limit(), "the caller's own deadline is not a drop")

		ctx, cancel = context.WithCancel(context.Background())
		err = l.Do(ctx, func(context.Context) error {
			cancel()
			return fmt.Errorf("gave up: %w", context.Canceled)
		})
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, 50, l.Limit())
		assert.Equal(t, 0, l.InFlight())
		calls := ofKind(rec, resilience.KindCall)
		require.Len(t, calls, 2, "an ignored call of Do still emits KindCall")
		assert.Equal(t, time.Second, calls[0].Duration)
		assert.ErrorIs(t, calls[1].Err, context.Canceled)

		err = l.Do(context.Background(), func(context.Context) error { return context.DeadlineExceeded })
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 45, l.Limit(), "a timeout that is not the caller's is a drop")
	})
}

func TestLimiterDoWithADoneContextRunsNothing(t *testing.T) {
	l := adaptive.NewLimiter(adaptive.LimiterConfig{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	err := l.Do(ctx, func(context.Context) error { ran = true; return nil })
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, ran)
	assert.ErrorIs(t, l.Do(context.Background(), nil), resilience.ErrNilFunc)
}

func TestLimiterRefusalMatchesErrLimitedAndErrRejected(t *testing.T) {
	rec := &resiliencetest.Recorder{}
	l := adaptive.NewLimiter(adaptive.LimiterConfig{InitialLimit: 1, MinLimit: 1, MaxLimit: 1, Observer: rec})
	p, err := l.Allow()
	require.NoError(t, err)
	_, err = l.Allow()
	require.ErrorIs(t, err, adaptive.ErrLimited)
	assert.ErrorIs(t, err, resilience.ErrRejected)
	assert.Equal(t, "adaptive: concurrency limit reached", err.Error())
	_, hinted := resilience.RetryAfter(err)
	assert.False(t, hinted)
	ran := false
	err = l.Do(context.Background(), func(context.Context) error { ran = true; return nil })
	assert.ErrorIs(t, err, adaptive.ErrLimited)
	assert.False(t, ran)
	p.Done(nil)
	kinds := []resilience.Kind{}
	for _, e := range rec.Events() {
		kinds = append(kinds, e.Kind)
		assert.Equal(t, "adaptive", e.Policy)
	}
	assert.Equal(t, []resilience.Kind{resilience.KindRejected, resilience.KindCall, resilience.KindRejected, resilience.KindCall, resilience.KindCall}, kinds)
}

func TestLimiterReportsLimitChanges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &resiliencetest.Recorder{}
		l := adaptive.NewLimiter(adaptive.LimiterConfig{Name: "api", Algorithm: adaptive.AIMD, InitialLimit: 20, MinLimit: 1, Observer: rec})
		wave(l, 1, 5*time.Millisecond, context.DeadlineExceeded)
		ch := ofKind(rec, resilience.KindLimitChange)
		require.Len(t, ch, 1)
		assert.Equal(t, "20", ch[0].From)
		assert.Equal(t, "18", ch[0].To)
		assert.Equal(t, "api", ch[0].Name)
		call := ofKind(rec, resilience.KindCall)
		require.Len(t, call, 1)
		assert.Equal(t, 5*time.Millisecond, call[0].Duration)
		assert.ErrorIs(t, call[0].Err, context.DeadlineExceeded)
	})
}

func TestLimiterReleasesThePermitWhenFnPanics(t *testing.T) {
	l := adaptive.NewLimiter(adaptive.LimiterConfig{Algorithm: adaptive.AIMD, InitialLimit: 30, MinLimit: 1})
	assert.Panics(t, func() {
		_ = l.Do(context.Background(), func(context.Context) error { panic("fn") })
	})
	assert.Equal(t, 0, l.InFlight())
	assert.Equal(t, 30, l.Limit())
}

func TestLimiterDefaultDropClassification(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cases := []struct {
			err  error
			drop bool
		}{
			{nil, false},
			{errBoom, false},
			{context.Canceled, false},
			{context.DeadlineExceeded, true},
			{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), true},
			{resilience.ErrRejected, true},
			{adaptive.ErrLimited, true},
			{overload(true), true},
			{overload(false), false},
			{fmt.Errorf("w: %w", overload(true)), true},
			{errors.Join(errBoom, overload(true)), true},
			{errors.Join(overload(false), overload(true)), false},
			{asOverload{}, true},
		}
		for _, c := range cases {
			l := adaptive.NewLimiter(adaptive.LimiterConfig{Algorithm: adaptive.AIMD, InitialLimit: 50, MinLimit: 1})
			p, _ := l.Allow()
			p.Done(c.err)
			assert.Equal(t, c.drop, l.Limit() < 50, "%v", c.err)
		}
	})
}

func TestLimiterIsDropReplacesTheDefault(t *testing.T) {
	l := adaptive.NewLimiter(adaptive.LimiterConfig{Algorithm: adaptive.AIMD, InitialLimit: 50, MinLimit: 1,
		IsDrop: func(err error) bool { return errors.Is(err, errBoom) }})
	p, _ := l.Allow()
	p.Done(context.DeadlineExceeded)
	assert.Equal(t, 50, l.Limit())
	p, _ = l.Allow()
	p.Done(errBoom)
	assert.Equal(t, 45, l.Limit())
}

// overload is an error with an Overload method, as resiliencehttp's
// StatusError has.
type overload bool

func (o overload) Error() string  { return fmt.Sprintf("overload %v", bool(o)) }
func (o overload) Overload() bool { return bool(o) }

// asOverload answers errors.As for an Overload method.
type asOverload struct{}

func (asOverload) Error() string { return "as" }
func (asOverload) As(target any) bool {
	if p, ok := target.(*interface{ Overload() bool }); ok {
		*p = overload(true)
		return true
	}
	return false
}

func TestLimiterConfigValidate(t *testing.T) {
	cases := []struct {
		c    adaptive.LimiterConfig
		want string
	}{
		{adaptive.LimiterConfig{InitialLimit: -1}, "must not be negative"},
		{adaptive.LimiterConfig{MinLimit: -1}, "must not be negative"},
		{adaptive.LimiterConfig{MaxLimit: -5}, "must not be negative"},
		{adaptive.LimiterConfig{MinLimit: 50, MaxLimit: 10}, "MinLimit 50 is above MaxLimit 10"},
		{adaptive.LimiterConfig{InitialLimit: 300}, "InitialLimit 300 is outside [MinLimit 20, MaxLimit 200]"},
		{adaptive.LimiterConfig{InitialLimit: 5, MinLimit: 10}, "InitialLimit 5 is outside"},
		{adaptive.LimiterConfig{Algorithm: 9}, "unknown Algorithm(9)"},
		{adaptive.LimiterConfig{Window: 99 * time.Millisecond}, "Window 99ms is below 100ms"},
		{adaptive.LimiterConfig{Window: time.Nanosecond}, "Window 1ns is below 100ms"},
	}
	for _, c := range cases {
		err := c.c.Validate()
		require.Error(t, err, "%+v", c.c)
		assert.Contains(t, err.Error(), c.want)
		assert.PanicsWithValue(t, err.Error(), func() { adaptive.NewLimiter(c.c) })
		assert.True(t, strings.HasPrefix(err.Error(), "adaptive: "))
	}
	for _, c := range []adaptive.LimiterConfig{
		{},
		{MaxLimit: 10},  // MinLimit defaults to 10, Initial to 10
		{MinLimit: 300}, // MaxLimit defaults to 300, Initial to 300
		{InitialLimit: 1, MinLimit: 1, MaxLimit: 1},
		{Algorithm: adaptive.Vegas},
		{Window: -1},
		{Window: adaptive.MinWindow},
		{Algorithm: adaptive.AIMD, Window: time.Minute},
	} {
		assert.NoError(t, c.Validate(), "%+v", c)
	}
	assert.Equal(t, 10, adaptive.NewLimiter(adaptive.LimiterConfig{MaxLimit: 10}).Limit())
	assert.Equal(t, 300, adaptive.NewLimiter(adaptive.LimiterConfig{MinLimit: 300}).Limit())
}

func TestLimiterPermitAllocatesNothing(t *testing.T) {
	for _, obs := range []resilience.Observer{nil, resilience.ObserverFunc(func(resilience.Event) {})} {
		l := adaptive.NewLimiter(adaptive.LimiterConfig{Observer: obs})
		allocs := testing.AllocsPerRun(1000, func() {
			p, err := l.Allow()
			if err != nil {
				t.Fatal(err)
			}
			p.Done(nil)
		})
		assert.Zero(t, allocs, "observed %v", obs != nil)
		ctx := context.Background()
		fn := func(context.Context) error { return nil }
		assert.Zero(t, testing.AllocsPerRun(1000, func() { _ = l.Do(ctx, fn) }))
		drop := testing.AllocsPerRun(1000, func() {
			p, _ := l.Allow()
			p.Done(context.DeadlineExceeded)
		})
		if obs == nil {
			assert.Zero(t, drop)
		}
	}
}

func TestLimiterInAChainTakesTheFastPath(t *testing.T) {
	l := adaptive.NewLimiter(adaptive.LimiterConfig{Algorithm: adaptive.AIMD, InitialLimit: 50, MinLimit: 1})
	inner := &resiliencetest.Recorder{}
	c := resilience.Chain(l, inner)
	err := c.Do(context.Background(), func(context.Context) error { return context.DeadlineExceeded })
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 45, l.Limit())
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		_ = c.Do(context.Background(), func(context.Context) error { return nil })
	}))
}
