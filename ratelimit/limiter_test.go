package ratelimit_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/ratelimit"
	"github.com/magicmagnets/resilience/resiliencetest"
)

func TestDoRunsWhileTokensLastThenRefusesWithTheWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(ratelimit.Config{Rate: 10, Burst: 3})
		ran := 0
		count := func(context.Context) error { ran++; return nil }
		for range 3 {
			require.NoError(t, l.Do(t.Context(), count))
		}
		err := l.Do(t.Context(), count)
		assert.Equal(t, 3, ran, "the refused call did not run")
		assert.ErrorIs(t, err, ratelimit.ErrLimited)
		assert.ErrorIs(t, err, resilience.ErrRejected)
		var le *ratelimit.LimitedError
		require.ErrorAs(t, err, &le)
		assert.Equal(t, 100*time.Millisecond, le.Wait, "one token comes every 100ms")
		assert.Equal(t, 100*time.Millisecond, waitOf(t, err))
	})
}

func TestRefusalSpendsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(ratelimit.Config{Rate: 1})
		require.NoError(t, l.Do(t.Context(), ok))
		for range 100 {
			require.ErrorIs(t, l.Do(t.Context(), ok), ratelimit.ErrLimited)
			require.False(t, l.Allow())
		}
		time.Sleep(999 * time.Millisecond)
		assert.Equal(t, time.Millisecond, waitOf(t, l.Do(t.Context(), ok)), "the refusals did not push the next token back")
		time.Sleep(time.Millisecond)
		assert.NoError(t, l.Do(t.Context(), ok), "the token comes one second after the first call, as if nobody had been refused")
		assert.False(t, l.Allow())
	})
}

func TestDoWaitsForATokenWithinMaxWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(ratelimit.Config{Rate: 10, MaxWait: 150 * time.Millisecond})
		require.NoError(t, l.Do(t.Context(), ok))
		start := time.Now()
		var ranAt time.Duration
		done := make(chan error)
		go func() {
			done <- l.Do(t.Context(), func(context.Context) error { ranAt = time.Since(start); return nil })
		}()
		synctest.Wait() // the second caller waits for the token due at 100ms
		err := l.Do(t.Context(), ok)
		assert.Equal(t, 200*time.Millisecond, waitOf(t, err), "a third caller's token would come after MaxWait: refused at once")
		assert.Zero(t, time.Since(start), "the refusal did not wait")
		require.NoError(t, <-done)
		assert.Equal(t, 100*time.Millisecond, ranAt, "the waiter ran when its token came, not before")
	})
}

func TestDoNeverWaitsPastTheDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(ratelimit.Config{Rate: 10, MaxWait: time.Second})
		require.NoError(t, l.Do(t.Context(), ok))
		for _, budget := range []time.Duration{50 * time.Millisecond, 100 * time.Millisecond} {
			ctx, cancel := context.WithTimeout(t.Context(), budget)
			start := time.Now()
			ran := false
			err := l.Do(ctx, func(context.Context) error { ran = true; return nil })
			cancel()
			assert.False(t, ran)
			assert.Equal(t, 100*time.Millisecond, waitOf(t, err), "budget %v: refused with the wait", budget)
			assert.Zero(t, time.Since(start), "budget %v: gave up at once, leaving the budget to the caller", budget)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 101*time.Millisecond)
		defer cancel()
		start := time.Now()
		require.NoError(t, l.Do(ctx, ok), "the token comes before the deadline: wait for it")
		assert.Equal(t, 100*time.Millisecond, time.Since(start))
	})
}

func TestCancelledWaiterReturnsTheContextErrorAndGivesItsTokenBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(ratelimit.Config{Rate: 1, MaxWait: 2 * time.Second})
		require.NoError(t, l.Do(t.Context(), ok))
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		ran := false
		go func() { done <- l.Do(ctx, func(context.Context) error { ran = true; return nil }) }()
		time.Sleep(500 * time.Millisecond)
		cancel()
		err := <-done
		assert.ErrorIs(t, err, context.Canceled)
		assert.NotErrorIs(t, err, resilience.ErrRejected, "the caller's cancel is not a refusal")
		assert.False(t, ran)
		// The next caller gets the token the waiter would have had, at 1s,
		// not the one after it.
		start := time.Now()
		require.NoError(t, l.Do(t.Context(), ok))
		assert.Equal(t, 500*time.Millisecond, time.Since(start), "the given-back token is the next caller's")
	})
}

func TestDoneContextRunsNothingAndSpendsNothing(t *testing.T) {
	l := ratelimit.New(ratelimit.Config{Rate: 1})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	ran := false
	err := l.Do(ctx, func(context.Context) error { ran = true; return nil })
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, ratelimit.ErrLimited)
	assert.False(t, ran)
	assert.True(t, l.Allow(), "the token is still there")
}

func TestDoWithNilFuncReturnsErrNilFunc(t *testing.T) {
	l := ratelimit.New(ratelimit.Config{Rate: 1})
	assert.ErrorIs(t, l.Do(t.Context(), nil), resilience.ErrNilFunc)
	assert.ErrorIs(t, l.DoNext(t.Context(), nil, nil), resilience.ErrNilFunc)
	assert.True(t, l.Allow(), "no token spent")
}

func TestDoReturnsTheOperationsErrorAndSpendsTheToken(t *testing.T) {
	l := ratelimit.New(ratelimit.Config{Rate: 1})
	assert.ErrorIs(t, l.Do(t.Context(), func(context.Context) error { return errBoom }), errBoom)
	assert.False(t, l.Allow(), "a failure of fn spends its token")
}

// Concurrent callers, waiting or not, never get more than Burst + Rate·t
// admissions in any stretch of t.
func TestConcurrentCallersNeverExceedBurstPlusRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const rate, burst = 50.0, 5
		l := ratelimit.New(ratelimit.Config{Rate: rate, Burst: burst, MaxWait: 30 * time.Millisecond})
		var mu sync.Mutex
		var admitted []time.Time
		record := func() {
			mu.Lock()
			admitted = append(admitted, time.Now())
			mu.Unlock()
		}
		end := time.Now().Add(10 * time.Second)
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() {
				for time.Now().Before(end) {
					if i%4 == 0 {
						if l.Allow() {
							record()
						}
					} else {
						_ = l.Do(t.Context(), func(context.Context) error { record(); return nil })
					}
					time.Sleep(time.Duration(1+i) * time.Millisecond)
				}
			})
		}
		wg.Wait()
		assertWithinRate(t, admitted, rate, burst)
		assert.GreaterOrEqual(t, len(admitted), int(rate*10), "the limit admits its rate when callers press it")
	})
}

// assertWithinRate checks that admissions, in any order, hold no stretch
// [a, b] with more than burst + rate·(b−a) of them.
func assertWithinRate(t *testing.T, admitted []time.Time, rate float64, burst int) {
	t.Helper()
	times := append([]time.Time(nil), admitted...)
	sortTimes(times)
	worst := 0.0
	for i := range times {
		for j := i; j < len(times); j++ {
			allowed := float64(burst) + rate*times[j].Sub(times[i]).Seconds()
			if excess := float64(j-i+1) - allowed; excess > worst {
				worst = excess
			}
		}
	}
	assert.LessOrEqual(t, worst, 1e-6, "admissions beyond Burst + Rate·t in some stretch (%d admissions)", len(times))
}

func sortTimes(ts []time.Time) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && ts[j].Before(ts[j-1]); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

func TestEventsOfRefusalsAndCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := new(resiliencetest.Recorder)
		l := ratelimit.New(ratelimit.Config{Name: "api", Rate: 4, Observer: rec})
		require.NoError(t, l.Do(t.Context(), func(context.Context) error { time.Sleep(10 * time.Millisecond); return nil }))
		err := l.Do(t.Context(), ok)
		require.ErrorIs(t, err, ratelimit.ErrLimited)
		assert.False(t, l.Allow())

		rejected := ofKind(rec, resilience.KindRejected)
		require.Len(t, rejected, 2, "one for Do's refusal, one for Allow's")
		for _, e := range rejected {
			assert.Equal(t, "ratelimit", e.Policy)
			assert.Equal(t, "api", e.Name)
			assert.Equal(t, 240*time.Millisecond, e.Delay, "the time until a token")
		}
		calls := ofKind(rec, resilience.KindCall)
		require.Len(t, calls, 2, "one per call of Do, admitted or refused; none for Allow")
		assert.Equal(t, 10*time.Millisecond, calls[0].Duration)
		assert.NoError(t, calls[0].Err)
		assert.Equal(t, err, calls[1].Err)
	})
}

// DoNext with a next policy does what Do does with a closure calling it.
func TestDoNextBehavesAsDo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		run := func(viaNext bool) (calls int, errs []error) {
			l := ratelimit.New(ratelimit.Config{Rate: 10, Burst: 2, MaxWait: 50 * time.Millisecond})
			next := resiliencetest.FailFirst(1, errBoom)
			for range 5 {
				var err error
				fn := func(context.Context) error { calls++; return nil }
				if viaNext {
					err = l.DoNext(t.Context(), next, fn)
				} else {
					err = l.Do(t.Context(), func(ctx context.Context) error { return next.Do(ctx, fn) })
				}
				errs = append(errs, err)
			}
			return calls, errs
		}
		c1, e1 := run(false)
		c2, e2 := run(true)
		assert.Equal(t, c1, c2)
		require.Len(t, e2, len(e1))
		for i := range e1 {
			assert.Equal(t, errString(e1[i]), errString(e2[i]), "call %d", i)
		}
	})
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

var _ resilience.Nexter = (*ratelimit.Limiter)(nil)

// A panicking observer cannot leave a refusal's token spent: the bucket is
// put right before the event is sent.
func TestPanickingObserverLeavesTheBucketRight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		obs := resilience.ObserverFunc(func(e resilience.Event) {
			if e.Kind == resilience.KindRejected {
				panic("observer")
			}
		})
		l := ratelimit.New(ratelimit.Config{Rate: 1, Observer: obs})
		require.NoError(t, l.Do(t.Context(), ok))
		for range 3 {
			assert.PanicsWithValue(t, "observer", func() { _ = l.Do(t.Context(), ok) })
			assert.PanicsWithValue(t, "observer", func() { l.Allow() })
		}
		time.Sleep(time.Second)
		assert.NoError(t, l.Do(t.Context(), ok), "the token came on time: the refusals spent nothing")
	})
}
