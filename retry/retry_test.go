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
	"github.com/magicmagnets/resilience/retry"
	"github.com/magicmagnets/resilience/timeout"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var errFlaky = errors.New("flaky")

// failTimes returns an operation that fails n times, then succeeds, and
// records the time of every attempt.
func failTimes(n int, err error, at *[]time.Time) resilience.Func {
	calls := 0
	return func(context.Context) error {
		*at = append(*at, time.Now())
		calls++
		if calls <= n {
			return err
		}
		return nil
	}
}

// recorder collects events.
type recorder struct {
	mu     sync.Mutex
	events []resilience.Event
}

func (r *recorder) Observe(e resilience.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) kinds() []resilience.Kind {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ks []resilience.Kind
	for _, e := range r.events {
		ks = append(ks, e.Kind)
	}
	return ks
}

func gaps(at []time.Time) []time.Duration {
	var d []time.Duration
	for i := 1; i < len(at); i++ {
		d = append(d, at[i].Sub(at[i-1]))
	}
	return d
}

func TestRetrySucceedsAfterFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var at []time.Time
		p := retry.New(retry.Config{MaxAttempts: 5, Backoff: backoff.Constant(time.Second)})
		require.NoError(t, p.Do(t.Context(), failTimes(3, errFlaky, &at)))
		assert.Equal(t, []time.Duration{time.Second, time.Second, time.Second}, gaps(at))
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

		var at []time.Time
		rec := &recorder{}
		start := time.Now()
		p := retry.New(retry.Config{MaxAttempts: 6, Backoff: strategy(), Observer: rec})
		require.NoError(t, p.Do(t.Context(), failTimes(5, errFlaky, &at)))
		assert.Equal(t, want, gaps(at))
		assert.Equal(t, total, time.Since(start))

		var delays []time.Duration
		for _, e := range rec.events {
			if e.Kind == resilience.KindRetry {
				delays = append(delays, e.Delay)
			}
		}
		assert.Equal(t, want, delays)
	})
}

func TestDefaultIsThreeAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var at []time.Time
		err := retry.New(retry.Config{}).Do(t.Context(), failTimes(10, errFlaky, &at))
		assert.Len(t, at, 3)
		assert.ErrorIs(t, err, retry.ErrExhausted)
		for _, g := range gaps(at) {
			assert.LessOrEqual(t, g, 200*time.Millisecond, "default backoff starts at 100ms with full jitter")
		}
	})
}

func TestExhaustedErrorMatchesLastError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var at []time.Time
		err := retry.New(retry.Config{MaxAttempts: 4, Backoff: backoff.Constant(0)}).Do(t.Context(), failTimes(10, errFlaky, &at))
		assert.ErrorIs(t, err, retry.ErrExhausted)
		assert.ErrorIs(t, err, errFlaky)
		var ex *retry.ExhaustedError
		require.ErrorAs(t, err, &ex)
		assert.Equal(t, 4, ex.Attempts)
		assert.Same(t, errFlaky, ex.Last)
		assert.EqualError(t, err, "retry: gave up after 4 attempts: flaky")
	})
}

func TestUnlimitedAttemptsStopAtMaxElapsed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var at []time.Time
		start := time.Now()
		p := retry.New(retry.Config{MaxAttempts: -1, Backoff: backoff.Constant(time.Second), MaxElapsed: 10 * time.Second})
		err := p.Do(t.Context(), failTimes(1000, errFlaky, &at))
		assert.ErrorIs(t, err, retry.ErrExhausted)
		assert.Len(t, at, 11, "attempts at 0s, 1s, …, 10s")
		assert.Equal(t, 10*time.Second, time.Since(start))
	})
}

// TestMaxElapsedGivesUpWithoutWaiting: a delay that would end after
// MaxElapsed is not waited; the policy gives up at once.
func TestMaxElapsedGivesUpWithoutWaiting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var at []time.Time
		start := time.Now()
		p := retry.New(retry.Config{MaxAttempts: 10, Backoff: backoff.Constant(4 * time.Second), MaxElapsed: 10 * time.Second})
		err := p.Do(t.Context(), failTimes(1000, errFlaky, &at))
		assert.ErrorIs(t, err, retry.ErrExhausted)
		assert.Len(t, at, 3, "attempts at 0s, 4s, 8s; a wait to 12s would pass 10s")
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
			return retry.Permanent(inner)
		})
		assert.Equal(t, 1, calls)
		assert.ErrorIs(t, err, inner)
		assert.EqualError(t, err, "card declined")
		assert.True(t, retry.IsPermanent(err), "the marker is kept")
		assert.True(t, resilience.IsPermanent(err))
		assert.Nil(t, retry.Permanent(nil))
		assert.False(t, retry.IsPermanent(inner))
	})
}

// TestPermanentIsTheRootMarker: retry.Permanent and resilience.Permanent are
// one marker, whichever package made it.
func TestPermanentIsTheRootMarker(t *testing.T) {
	inner := errors.New("declined")
	assert.True(t, retry.IsPermanent(resilience.Permanent(inner)))
	assert.True(t, resilience.IsPermanent(retry.Permanent(inner)))
	once := retry.Permanent(inner)
	assert.Same(t, once, resilience.Permanent(once), "marking twice marks once")
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
		err := p.Do(t.Context(), func(context.Context) error { calls++; return retry.Permanent(inner) })
		assert.Equal(t, 1, calls)
		assert.ErrorIs(t, err, inner)
		assert.True(t, retry.IsPermanent(err))
	})
}

func TestRetryIfDecides(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fatal := errors.New("fatal")
		var at []time.Time
		p := retry.New(retry.Config{MaxAttempts: 5, RetryIf: func(err error) bool { return !errors.Is(err, fatal) }})
		err := p.Do(t.Context(), failTimes(10, fatal, &at))
		assert.Same(t, fatal, err)
		assert.Len(t, at, 1)
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
		var at []time.Time
		p := retry.New(retry.Config{MaxAttempts: 3, Backoff: backoff.Constant(time.Millisecond), Rand: fixedRand(0)})
		require.NoError(t, p.Do(t.Context(), failTimes(2, hinted{7 * time.Second}, &at)))
		assert.Equal(t, []time.Duration{7 * time.Second, 7 * time.Second}, gaps(at))
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
			var at []time.Time
			p := retry.New(retry.Config{MaxAttempts: 2, Rand: fixedRand(tc.draw)})
			require.NoError(t, p.Do(t.Context(), failTimes(1, hinted{10 * time.Second}, &at)))
			assert.Equal(t, []time.Duration{tc.want}, gaps(at), "draw %v", tc.draw)
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
		var at []time.Time
		p := retry.New(retry.Config{MaxAttempts: 2, MaxDelay: 3 * time.Second, Rand: fixedRand(0)})
		require.NoError(t, p.Do(t.Context(), failTimes(1, hinted{time.Hour}, &at)))
		assert.Equal(t, []time.Duration{3 * time.Second}, gaps(at))

		at = nil
		p = retry.New(retry.Config{MaxAttempts: 2, MaxDelay: 3 * time.Second, Rand: fixedRand(0.5)})
		require.NoError(t, p.Do(t.Context(), failTimes(1, hinted{time.Hour}, &at)))
		assert.Equal(t, []time.Duration{3*time.Second + 150*time.Millisecond}, gaps(at),
			"the jitter comes on top of the capped hint: at most 1.1 × MaxDelay")
	})
}

func TestZeroHintFallsBackToBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var at []time.Time
		p := retry.New(retry.Config{MaxAttempts: 2, Backoff: backoff.Constant(2 * time.Second)})
		require.NoError(t, p.Do(t.Context(), failTimes(1, hinted{0}, &at)))
		assert.Equal(t, []time.Duration{2 * time.Second}, gaps(at))
	})
}

func TestDefaultMaxDelayCapsBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var at []time.Time
		p := retry.New(retry.Config{MaxAttempts: 2, Backoff: backoff.Constant(time.Hour)})
		require.NoError(t, p.Do(t.Context(), failTimes(1, errFlaky, &at)))
		assert.Equal(t, []time.Duration{30 * time.Second}, gaps(at))
		assert.Equal(t, 30*time.Second, p.MaxDelay())
	})
}

// TestCancelDuringWaitReturnsAtOnce: the caller's context ends in the middle
// of a long wait; Do returns at that moment with both errors reachable.
func TestCancelDuringWaitReturnsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(3*time.Second, cancel)
		var at []time.Time
		start := time.Now()
		err := retry.New(retry.Config{MaxAttempts: 5, Backoff: backoff.Constant(time.Minute)}).Do(ctx, failTimes(10, errFlaky, &at))
		assert.Equal(t, 3*time.Second, time.Since(start))
		assert.ErrorIs(t, err, context.Canceled)
		assert.ErrorIs(t, err, errFlaky)
		assert.NotErrorIs(t, err, retry.ErrExhausted)
		assert.Len(t, at, 1)
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
		rec := &recorder{}
		var at []time.Time
		p := retry.New(retry.Config{MaxAttempts: 3, Backoff: backoff.Constant(time.Second), Observer: rec, Name: "charges"})
		_ = p.Do(t.Context(), failTimes(10, errFlaky, &at))
		assert.Equal(t, []resilience.Kind{resilience.KindRetry, resilience.KindRetry, resilience.KindGiveUp}, rec.kinds())
		assert.Equal(t, resilience.Event{Policy: "retry", Name: "charges", Kind: resilience.KindRetry, Attempt: 2, Delay: time.Second, Err: errFlaky}, rec.events[1])
		assert.Equal(t, 3, rec.events[2].Attempt)
	})
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
	assert.True(t, retry.IsPermanent(err))
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
			return errors.Join(errFlaky, fmt.Errorf("charge: %w", retry.Permanent(declined)))
		})
		assert.Equal(t, 1, calls, "a permanent error inside a join stops retries")
		assert.ErrorIs(t, err, declined)
		assert.True(t, retry.IsPermanent(err))

		var at []time.Time
		p := retry.New(retry.Config{MaxAttempts: 2, Backoff: backoff.Constant(time.Millisecond), Rand: fixedRand(0)})
		require.NoError(t, p.Do(t.Context(), failTimes(1, fmt.Errorf("a: %w, b: %w", errFlaky, hintViaAs{}), &at)))
		assert.Equal(t, []time.Duration{5 * time.Second}, gaps(at), "a hint offered through As is honoured")

		at = nil
		require.NoError(t, p.Do(t.Context(), failTimes(1, errors.Join(errFlaky, hinted{3 * time.Second}), &at)))
		assert.Equal(t, []time.Duration{3 * time.Second}, gaps(at), "a hint inside a join is honoured")

		at = nil
		require.NoError(t, p.Do(t.Context(), failTimes(1, fmt.Errorf("d: %w", hintViaAsWrapping{}), &at)))
		assert.Equal(t, []time.Duration{5 * time.Second}, gaps(at), "an As method answers before the hint it wraps, as in errors.As")
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
