package retry_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/resiliencetest"
	"github.com/magicmagnets/resilience/retry"
	"github.com/magicmagnets/resilience/timeout"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var errFlaky = errors.New("flaky")

func succeed(context.Context) error { return nil }

// doFailing runs p over a dependency that fails its first n calls with err
// and then succeeds, with a Recorder between them that records every
// attempt, and returns the Recorder and Do's error.
func doFailing(ctx context.Context, p resilience.Policy, n int, err error) (*resiliencetest.Recorder, error) {
	rec := &resiliencetest.Recorder{}
	return rec, resilience.Chain(p, rec, resiliencetest.FailFirst(n, err)).Do(ctx, succeed)
}

// kinds returns the Kind of every event, in order.
func kinds(events []resilience.Event) []resilience.Kind {
	var ks []resilience.Kind
	for _, e := range events {
		ks = append(ks, e.Kind)
	}
	return ks
}

func TestRetrySucceedsAfterFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := retry.New(retry.Config{MaxAttempts: 5, Backoff: backoff.Constant(time.Second)})
		rec, err := doFailing(t.Context(), p, 3, errFlaky)
		require.NoError(t, err)
		assert.Equal(t, []time.Duration{time.Second, time.Second, time.Second}, rec.Gaps())
	})
}

// TestThirtySecondScheduleIsExact runs a seeded, jittered schedule that
// spans about 30 seconds of fake time and checks every wait exactly.
func TestThirtySecondScheduleIsExact(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		strategy := func() backoff.Backoff {
			return backoff.Exponential(time.Second, 2, 16*time.Second).WithJitter(backoff.Equal).WithRand(rand.New(rand.NewPCG(11, 12)))
		}
		// The expected schedule comes from the same seeded strategy.
		want := []time.Duration{}
		s, prev, total := strategy(), time.Duration(0), time.Duration(0)
		for n := 1; n <= 5; n++ {
			prev = s.Delay(n, prev)
			want = append(want, prev)
			total += prev
		}
		require.Greater(t, total, 20*time.Second, "the schedule spans tens of seconds")

		rec := &resiliencetest.Recorder{} // the policy's observer, and its attempts
		start := time.Now()
		p := retry.New(retry.Config{MaxAttempts: 6, Backoff: strategy(), Observer: rec})
		require.NoError(t, resilience.Chain(p, rec, resiliencetest.FailFirst(5, errFlaky)).Do(t.Context(), succeed))
		assert.Equal(t, want, rec.Gaps())
		assert.Equal(t, total, time.Since(start))
		assert.Equal(t, want, rec.Delays(), "the KindRetry events announce the waits")
	})
}

func TestDefaultIsThreeAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec, err := doFailing(t.Context(), retry.New(retry.Config{}), 10, errFlaky)
		assert.Len(t, rec.Attempts(), 3)
		assert.ErrorIs(t, err, retry.ErrExhausted)
		for _, g := range rec.Gaps() {
			assert.LessOrEqual(t, g, 200*time.Millisecond, "default backoff starts at 100ms with full jitter")
		}
	})
}

func TestExhaustedErrorMatchesLastError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec, err := doFailing(t.Context(), retry.New(retry.Config{MaxAttempts: 4, Backoff: backoff.Constant(0)}), 10, errFlaky)
		assert.ErrorIs(t, err, retry.ErrExhausted)
		assert.ErrorIs(t, err, errFlaky)
		var ex *retry.ExhaustedError
		require.ErrorAs(t, err, &ex)
		assert.Equal(t, 4, ex.Attempts)
		assert.Len(t, rec.Attempts(), 4)
		assert.Same(t, errFlaky, ex.Last)
		assert.EqualError(t, err, "retry: gave up after 4 attempts: flaky")
	})
}

func TestUnlimitedAttemptsStopAtMaxElapsed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		p := retry.New(retry.Config{MaxAttempts: -1, Backoff: backoff.Constant(time.Second), MaxElapsed: 10 * time.Second})
		rec, err := doFailing(t.Context(), p, 1000, errFlaky)
		assert.ErrorIs(t, err, retry.ErrExhausted)
		assert.Len(t, rec.Attempts(), 11, "attempts at 0s, 1s, …, 10s")
		assert.Equal(t, 10*time.Second, time.Since(start))
	})
}

// TestMaxElapsedGivesUpWithoutWaiting: a delay that would end after
// MaxElapsed is not waited; the policy gives up at once.
func TestMaxElapsedGivesUpWithoutWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		p := retry.New(retry.Config{MaxAttempts: 10, Backoff: backoff.Constant(4 * time.Second), MaxElapsed: 10 * time.Second})
		rec, err := doFailing(t.Context(), p, 1000, errFlaky)
		assert.ErrorIs(t, err, retry.ErrExhausted)
		assert.Len(t, rec.Attempts(), 3, "attempts at 0s, 4s, 8s; a wait to 12s would pass 10s")
		assert.Equal(t, 8*time.Second, time.Since(start))
	})
}

// TestPermanentStopsAndStaysMarked: a permanent error is returned at once
// and still marked, so that a retry around this one stops too.
func TestPermanentStopsAndStaysMarked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		inner := errors.New("card declined")
		err := retry.New(retry.Config{MaxAttempts: 5}).Do(t.Context(), func(context.Context) error {
			calls++
			return resilience.Permanent(inner)
		})
		assert.Equal(t, 1, calls)
		assert.ErrorIs(t, err, inner)
		assert.EqualError(t, err, "card declined")
		assert.True(t, resilience.IsPermanent(err), "the marker is kept")
		assert.Nil(t, resilience.Permanent(nil))
		assert.False(t, resilience.IsPermanent(inner))
	})
}

// TestPermanentStopsAnOuterRetryToo: Chain(retry, retry) runs a permanently
// failing operation once, not once per outer attempt.
func TestPermanentStopsAnOuterRetryToo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		inner := errors.New("declined")
		p := resilience.Chain(
			retry.New(retry.Config{MaxAttempts: 3, Backoff: backoff.Constant(time.Second)}),
			retry.New(retry.Config{MaxAttempts: 3, Backoff: backoff.Constant(time.Second)}),
		)
		err := p.Do(t.Context(), func(context.Context) error { calls++; return resilience.Permanent(inner) })
		assert.Equal(t, 1, calls)
		assert.ErrorIs(t, err, inner)
		assert.True(t, resilience.IsPermanent(err))
	})
}

func TestRetryIfDecides(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fatal := errors.New("fatal")
		p := retry.New(retry.Config{MaxAttempts: 5, RetryIf: func(err error) bool { return !errors.Is(err, fatal) }})
		rec, err := doFailing(t.Context(), p, 10, fatal)
		assert.Same(t, fatal, err)
		assert.Len(t, rec.Attempts(), 1)
	})
}

type hinted struct{ after time.Duration }

func (h hinted) Error() string             { return "slow down" }
func (h hinted) RetryAfter() time.Duration { return h.after }

// fixedRand always draws the same number.
type fixedRand float64

func (f fixedRand) Float64() float64 { return float64(f) }

func TestRetryAfterHintSetsDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := retry.New(retry.Config{MaxAttempts: 3, Backoff: backoff.Constant(time.Millisecond), Rand: fixedRand(0)})
		rec, err := doFailing(t.Context(), p, 2, hinted{7 * time.Second})
		require.NoError(t, err)
		assert.Equal(t, []time.Duration{7 * time.Second, 7 * time.Second}, rec.Gaps())
	})
}

// TestHintGetsUpToATenthOnTop: the wait after a hint h is h + U(0, h/10),
// drawn from Config.Rand: never below the hint.
func TestHintGetsUpToATenthOnTop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, tc := range []struct {
			draw float64
			want time.Duration
		}{{0, 10 * time.Second}, {0.5, 10*time.Second + 500*time.Millisecond}, {0.999, 10*time.Second + 999*time.Millisecond}} {
			p := retry.New(retry.Config{MaxAttempts: 2, Rand: fixedRand(tc.draw)})
			rec, err := doFailing(t.Context(), p, 1, hinted{10 * time.Second})
			require.NoError(t, err)
			assert.Equal(t, []time.Duration{tc.want}, rec.Gaps(), "draw %v", tc.draw)
		}
	})
}

// TestCallersWaitingOnOneHintDoNotReturnTogether: a hundred callers turned
// away with the same 5s hint come back spread over [5s, 5.5s), not in one
// instant.
func TestCallersWaitingOnOneHintDoNotReturnTogether(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := retry.New(retry.Config{MaxAttempts: 2, Rand: backoff.NewRand(3)})
		start := time.Now()
		var mu sync.Mutex
		var back []time.Duration
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				attempts := 0
				err := p.Do(t.Context(), func(context.Context) error {
					if attempts++; attempts == 1 {
						return hinted{5 * time.Second}
					}
					mu.Lock()
					back = append(back, time.Since(start))
					mu.Unlock()
					return nil
				})
				assert.NoError(t, err)
			})
		}
		wg.Wait()
		require.Len(t, back, 100)
		distinct := map[time.Duration]bool{}
		for _, d := range back {
			assert.GreaterOrEqual(t, d, 5*time.Second, "never before the hint")
			assert.Less(t, d, 5500*time.Millisecond, "at most a tenth after it")
			distinct[d] = true
		}
		assert.Len(t, distinct, 100, "no two callers come back in the same instant")
	})
}

func TestRetryAfterHintIsClampedByMaxDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := retry.New(retry.Config{MaxAttempts: 2, MaxDelay: 3 * time.Second, Rand: fixedRand(0)})
		rec, err := doFailing(t.Context(), p, 1, hinted{time.Hour})
		require.NoError(t, err)
		assert.Equal(t, []time.Duration{3 * time.Second}, rec.Gaps())

		p = retry.New(retry.Config{MaxAttempts: 2, MaxDelay: 3 * time.Second, Rand: fixedRand(0.5)})
		rec, err = doFailing(t.Context(), p, 1, hinted{time.Hour})
		require.NoError(t, err)
		assert.Equal(t, []time.Duration{3*time.Second + 150*time.Millisecond}, rec.Gaps(),
			"the jitter comes on top of the capped hint: at most 1.1 × MaxDelay")
	})
}

func TestZeroHintFallsBackToBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := retry.New(retry.Config{MaxAttempts: 2, Backoff: backoff.Constant(2 * time.Second)})
		rec, err := doFailing(t.Context(), p, 1, hinted{0})
		require.NoError(t, err)
		assert.Equal(t, []time.Duration{2 * time.Second}, rec.Gaps())
	})
}

func TestDefaultMaxDelayCapsBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := retry.New(retry.Config{MaxAttempts: 2, Backoff: backoff.Constant(time.Hour)})
		rec, err := doFailing(t.Context(), p, 1, errFlaky)
		require.NoError(t, err)
		assert.Equal(t, []time.Duration{30 * time.Second}, rec.Gaps())
		assert.Equal(t, 30*time.Second, p.MaxDelay())
	})
}

// TestCancelDuringWaitReturnsAtOnce: the caller's context ends in the middle
// of a long wait; Do returns at that moment with both errors reachable.
func TestCancelDuringWaitReturnsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(3*time.Second, cancel)
		start := time.Now()
		rec, err := doFailing(ctx, retry.New(retry.Config{MaxAttempts: 5, Backoff: backoff.Constant(time.Minute)}), 10, errFlaky)
		assert.Equal(t, 3*time.Second, time.Since(start))
		assert.ErrorIs(t, err, context.Canceled)
		assert.ErrorIs(t, err, errFlaky)
		assert.NotErrorIs(t, err, retry.ErrExhausted)
		assert.Len(t, rec.Attempts(), 1)
	})
}

func TestCallerCancellationIsNotRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		calls := 0
		err := retry.New(retry.Config{MaxAttempts: 5}).Do(ctx, func(ctx context.Context) error {
			calls++
			cancel()
			return ctx.Err()
		})
		assert.Equal(t, 1, calls)
		assert.ErrorIs(t, err, context.Canceled)
	})
}

func TestAttemptNumbersContexts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		assert.Equal(t, 0, retry.Attempt(t.Context()))
		var seen []int
		type key struct{}
		ctx := context.WithValue(t.Context(), key{}, "kept")
		p := retry.New(retry.Config{MaxAttempts: 3, Backoff: backoff.Constant(0)})
		_ = p.Do(ctx, func(ctx context.Context) error {
			seen = append(seen, retry.Attempt(ctx))
			assert.Equal(t, "kept", ctx.Value(key{}), "values of the caller's context stay visible")
			derived, cancel := context.WithCancel(ctx)
			defer cancel()
			assert.Equal(t, retry.Attempt(ctx), retry.Attempt(derived))
			return errFlaky
		})
		assert.Equal(t, []int{1, 2, 3}, seen)
	})
}

// TestTimeoutInsideRetryIsRetried: each attempt has its own timeout; a timed
// out attempt is retried and the next one succeeds.
func TestTimeoutInsideRetryIsRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		p := resilience.Chain(
			retry.New(retry.Config{MaxAttempts: 3, Backoff: backoff.Constant(time.Second)}),
			timeout.New(2*time.Second),
		)
		start := time.Now()
		err := p.Do(t.Context(), func(ctx context.Context) error {
			calls++
			if calls == 1 {
				<-ctx.Done()
				return ctx.Err()
			}
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, 2, calls)
		assert.Equal(t, 3*time.Second, time.Since(start))
	})
}

// TestTotalTimeoutOutsideRetryGivesUpBeforeAWaitPastIt: under an outer 5s
// deadline, the wait that would end at 6s is not started: the policy gives
// up at 4s, leaving the last second to whatever is outside.
func TestTotalTimeoutOutsideRetryGivesUpBeforeAWaitPastIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		p := resilience.Chain(
			timeout.New(5*time.Second),
			retry.New(retry.Config{MaxAttempts: -1, Backoff: backoff.Constant(2 * time.Second)}),
		)
		start := time.Now()
		err := p.Do(t.Context(), func(context.Context) error { calls++; return errFlaky })
		assert.Equal(t, 4*time.Second, time.Since(start))
		assert.Equal(t, 3, calls, "attempts at 0s, 2s, 4s")
		assert.ErrorIs(t, err, retry.ErrExhausted)
		assert.ErrorIs(t, err, errFlaky)
		assert.EqualError(t, err, "retry: gave up after 3 attempts: the next wait, 2s, would end after the context's deadline: flaky")
	})
}

func TestEventsReportRetriesAndGiveUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &resiliencetest.Recorder{}
		p := retry.New(retry.Config{MaxAttempts: 3, Backoff: backoff.Constant(time.Second), Observer: rec, Name: "charges"})
		err := resilience.Chain(p, resiliencetest.FailFirst(10, errFlaky)).Do(t.Context(), succeed)
		require.ErrorIs(t, err, retry.ErrExhausted)
		events := rec.Events()
		require.Len(t, events, 4)
		assert.Equal(t, []resilience.Kind{resilience.KindRetry, resilience.KindRetry, resilience.KindGiveUp, resilience.KindCall}, kinds(events))
		assert.Equal(t, resilience.Event{Policy: "retry", Name: "charges", Kind: resilience.KindRetry, Attempt: 2, Delay: time.Second, Err: errFlaky}, events[1])
		assert.Equal(t, resilience.Event{Policy: "retry", Name: "charges", Kind: resilience.KindGiveUp, Attempt: 3, Err: errFlaky}, events[2])
	})
}

// TestCallEventReportsEveryFinishedCall: with an observer, every call of Do
// ends with one KindCall event: the attempts made, how long the whole call
// took (waits included) and what Do returned.
func TestCallEventReportsEveryFinishedCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &resiliencetest.Recorder{}
		p := retry.New(retry.Config{MaxAttempts: 3, Backoff: backoff.Constant(time.Second), Name: "charges", Observer: rec})
		lastCall := func() resilience.Event {
			events := rec.Events()
			require.NotEmpty(t, events)
			assert.Equal(t, 1, rec.Count(resilience.KindCall), "one KindCall per call")
			return events[len(events)-1]
		}

		require.NoError(t, resilience.Chain(p, resiliencetest.FailFirst(2, errFlaky)).Do(t.Context(), succeed))
		assert.Equal(t, resilience.Event{Policy: "retry", Name: "charges", Kind: resilience.KindCall, Attempt: 3, Duration: 2 * time.Second}, lastCall())

		rec.Reset()
		err := resilience.Chain(p, resiliencetest.FailFirst(10, errFlaky)).Do(t.Context(), succeed)
		require.ErrorIs(t, err, retry.ErrExhausted)
		ev := lastCall()
		assert.Equal(t, resilience.KindCall, ev.Kind)
		assert.Equal(t, 3, ev.Attempt)
		assert.Equal(t, 2*time.Second, ev.Duration)
		assert.Same(t, err, ev.Err, "the outcome is what Do returned")

		rec.Reset()
		slow := func(context.Context) error { time.Sleep(300 * time.Millisecond); return nil }
		require.NoError(t, p.Do(t.Context(), slow))
		assert.Equal(t, resilience.Event{Policy: "retry", Name: "charges", Kind: resilience.KindCall, Attempt: 1, Duration: 300 * time.Millisecond}, lastCall())

		rec.Reset()
		declined := resilience.Permanent(errors.New("declined"))
		assert.Same(t, declined, p.Do(t.Context(), func(context.Context) error { return declined }))
		assert.Equal(t, resilience.Event{Policy: "retry", Name: "charges", Kind: resilience.KindCall, Attempt: 1, Err: declined}, lastCall())

		rec.Reset()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		require.ErrorIs(t, p.Do(ctx, succeed), context.Canceled)
		assert.Equal(t, resilience.Event{Policy: "retry", Name: "charges", Kind: resilience.KindCall, Err: context.Canceled}, lastCall(),
			"a done context runs nothing: no attempt")

		rec.Reset()
		assert.ErrorIs(t, p.Do(t.Context(), nil), resilience.ErrNilFunc)
		assert.Empty(t, rec.Events(), "a nil operation is no call")
	})
}

// TestObservingAllocatesNothing: an observer that keeps nothing adds no
// allocation to a success or to a call that fails every attempt.
func TestObservingAllocatesNothing(t *testing.T) {
	ctx := context.Background()
	nop := resilience.ObserverFunc(func(resilience.Event) {})
	wrapped := fmt.Errorf("call: %w", errFlaky)
	fail := func(context.Context) error { return wrapped }
	for _, obs := range []resilience.Observer{nil, nop} {
		p := retry.New(retry.Config{Backoff: backoff.Constant(0), Observer: obs})
		assert.Equal(t, 1.0, testing.AllocsPerRun(1000, func() { _ = p.Do(ctx, succeed) }), "success, observer %v", obs != nil)
		assert.Equal(t, 4.0, testing.AllocsPerRun(1000, func() { _ = p.Do(ctx, fail) }), "three failures, observer %v", obs != nil)
	}
}

func TestNilFuncAndBadConfig(t *testing.T) {
	assert.ErrorIs(t, retry.New(retry.Config{}).Do(context.Background(), nil), resilience.ErrNilFunc)
	assert.PanicsWithValue(t, "retry: negative MaxElapsed -1s", func() { retry.New(retry.Config{MaxElapsed: -time.Second}) })
	assert.PanicsWithValue(t, "retry: negative MaxDelay -1ns", func() { retry.New(retry.Config{MaxDelay: -1}) })
}

// TestSuccessPathAllocatesOnlyTheAttemptContext: the first-attempt success
// costs exactly one small allocation, the context that answers Attempt.
func TestSuccessPathAllocatesOnlyTheAttemptContext(t *testing.T) {
	p := retry.New(retry.Config{})
	ctx := context.Background()
	fn := func(context.Context) error { return nil }
	allocs := testing.AllocsPerRun(1000, func() { _ = p.Do(ctx, fn) })
	assert.Equal(t, 1.0, allocs)
}

type ownMarker struct{}

func (ownMarker) Error() string   { return "declined elsewhere" }
func (ownMarker) Permanent() bool { return true }

// TestForeignPermanentMarkerStopsRetries: an error with a Permanent() bool
// method that returns true (idempotency.Final, say) is not retried and
// comes back unchanged.
func TestForeignPermanentMarkerStopsRetries(t *testing.T) {
	calls := 0
	err := retry.New(retry.Config{MaxAttempts: 5}).Do(context.Background(), func(context.Context) error {
		calls++
		return fmt.Errorf("charge: %w", ownMarker{})
	})
	assert.Equal(t, 1, calls)
	assert.EqualError(t, err, "charge: declined elsewhere")
	assert.True(t, resilience.IsPermanent(err))
}

// hintViaAs offers a RetryAfter hint only through an As method, which only
// errors.As honours.
type hintViaAs struct{}

func (hintViaAs) Error() string { return "hint via As" }
func (hintViaAs) As(target any) bool {
	if p, ok := target.(*interface{ RetryAfter() time.Duration }); ok {
		*p = hinted{5 * time.Second}
		return true
	}
	return false
}

// hintViaAsWrapping offers a 5s hint through its As method and wraps an
// error with a 3s hint: errors.As asks the As method first.
type hintViaAsWrapping struct{ hintViaAs }

func (hintViaAsWrapping) Unwrap() error { return hinted{3 * time.Second} }

// TestMarkersAreFoundAnywhereInTheErrorTree: permanent markers and hints
// are found through %w chains, multi-%w and errors.Join, and through As
// methods, as errors.As would find them.
func TestMarkersAreFoundAnywhereInTheErrorTree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		declined := errors.New("declined")
		calls := 0
		err := retry.New(retry.Config{MaxAttempts: 5}).Do(t.Context(), func(context.Context) error {
			calls++
			return errors.Join(errFlaky, fmt.Errorf("charge: %w", resilience.Permanent(declined)))
		})
		assert.Equal(t, 1, calls, "a permanent error inside a join stops retries")
		assert.ErrorIs(t, err, declined)
		assert.True(t, resilience.IsPermanent(err))

		p := retry.New(retry.Config{MaxAttempts: 2, Backoff: backoff.Constant(time.Millisecond), Rand: fixedRand(0)})
		rec, err := doFailing(t.Context(), p, 1, fmt.Errorf("a: %w, b: %w", errFlaky, hintViaAs{}))
		require.NoError(t, err)
		assert.Equal(t, []time.Duration{5 * time.Second}, rec.Gaps(), "a hint offered through As is honoured")

		rec, err = doFailing(t.Context(), p, 1, errors.Join(errFlaky, hinted{3 * time.Second}))
		require.NoError(t, err)
		assert.Equal(t, []time.Duration{3 * time.Second}, rec.Gaps(), "a hint inside a join is honoured")

		rec, err = doFailing(t.Context(), p, 1, fmt.Errorf("d: %w", hintViaAsWrapping{}))
		require.NoError(t, err)
		assert.Equal(t, []time.Duration{5 * time.Second}, rec.Gaps(), "an As method answers before the hint it wraps, as in errors.As")
	})
}

// TestFailedAttemptAllocatesOnlyItsContext: looking for markers and hints in
// a failed attempt's error allocates nothing.
func TestFailedAttemptAllocatesOnlyItsContext(t *testing.T) {
	p := retry.New(retry.Config{MaxAttempts: 3, Backoff: backoff.Constant(0)})
	ctx := context.Background()
	wrapped := fmt.Errorf("call: %w", errFlaky)
	fail := func(context.Context) error { return wrapped }
	allocs := testing.AllocsPerRun(1000, func() { _ = p.Do(ctx, fail) })
	assert.Equal(t, 4.0, allocs, "three attempt contexts and the ExhaustedError")
}
