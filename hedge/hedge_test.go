package hedge_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/hedge"
	"github.com/magicmagnets/resilience/retry"
)

// TestHedgeNotSentWhenFirstAttemptIsFast: an attempt that finishes before
// the delay is the only one.
func TestHedgeNotSentWhenFirstAttemptIsFast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		p := hedge.New(hedge.Config{Delay: 10 * time.Millisecond, Observer: rec})
		s := &script{steps: []func(context.Context) error{takes(5 * time.Millisecond)}}
		start := time.Now()
		require.NoError(t, p.Do(t.Context(), s.fn))
		assert.Equal(t, 5*time.Millisecond, time.Since(start))
		assert.Equal(t, 1, s.calls())
		assert.Empty(t, rec.of(resilience.KindHedge))
		calls := rec.of(resilience.KindCall)
		require.Len(t, calls, 1)
		assert.Equal(t, 1, calls[0].Attempt)
		assert.Equal(t, 5*time.Millisecond, calls[0].Duration)
		assert.Equal(t, "hedge", calls[0].Policy)
	})
}

// TestHedgeStartsAfterDelayAndWinnerCancelsTheRest: a first attempt still
// running after the delay gets a hedge; the hedge's success ends the call
// and cancels the first attempt.
func TestHedgeStartsAfterDelayAndWinnerCancelsTheRest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		p := hedge.New(hedge.Config{Name: "db", Delay: 10 * time.Millisecond, Observer: rec})
		s := &script{steps: []func(context.Context) error{takes(time.Hour), takes(3 * time.Millisecond)}}
		start := time.Now()
		require.NoError(t, p.Do(t.Context(), s.fn))
		assert.Equal(t, 13*time.Millisecond, time.Since(start))
		assert.Equal(t, 2, s.calls())
		synctest.Wait() // the cancelled first attempt returns
		assert.Equal(t, 1, int(s.cancelled.Load()), "the first attempt saw its cancel")
		hedges := rec.of(resilience.KindHedge)
		require.Len(t, hedges, 1)
		assert.Equal(t, resilience.Event{Policy: "hedge", Name: "db", Kind: resilience.KindHedge, Attempt: 2, Delay: 10 * time.Millisecond}, hedges[0])
		assert.Equal(t, 2, rec.of(resilience.KindCall)[0].Attempt)
	})
}

// TestHedgeFirstAttemptMayStillWin: the first attempt, finishing after
// the hedge started but before it, wins and the hedge is cancelled.
func TestHedgeFirstAttemptMayStillWin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := hedge.New(hedge.Config{Delay: 10 * time.Millisecond})
		s := &script{steps: []func(context.Context) error{takes(12 * time.Millisecond), takes(time.Hour)}}
		start := time.Now()
		require.NoError(t, p.Do(t.Context(), s.fn))
		assert.Equal(t, 12*time.Millisecond, time.Since(start))
		assert.Equal(t, 2, s.calls())
		synctest.Wait() // the cancelled hedge returns
		assert.Equal(t, 1, int(s.cancelled.Load()))
	})
}

// TestHedgeMaxHedgesAtDelayIntervals: with MaxHedges 3, attempts start at
// 0, 10, 20 and 30 ms and no more.
func TestHedgeMaxHedgesAtDelayIntervals(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		p := hedge.New(hedge.Config{Delay: 10 * time.Millisecond, MaxHedges: 3, Observer: rec})
		s := &script{steps: []func(context.Context) error{takes(100 * time.Millisecond)}}
		start := time.Now()
		require.NoError(t, p.Do(t.Context(), s.fn))
		assert.Equal(t, 100*time.Millisecond, time.Since(start), "the first attempt wins at 100ms")
		assert.Equal(t, 4, s.calls())
		assert.Len(t, rec.of(resilience.KindHedge), 3)
	})
}

// TestHedgeZeroDelayStartsAllAtOnce: Config{} hedges once, at once.
func TestHedgeZeroDelayStartsAllAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := hedge.New(hedge.Config{})
		assert.Equal(t, 1, p.MaxHedges())
		assert.Equal(t, time.Duration(0), p.Delay())
		s := &script{steps: []func(context.Context) error{takes(time.Hour), takes(time.Millisecond)}}
		start := time.Now()
		require.NoError(t, p.Do(t.Context(), s.fn))
		assert.Equal(t, time.Millisecond, time.Since(start))
		assert.Equal(t, 2, s.calls())
	})
}

// TestHedgeRetryableFailureStartsNextAtOnce: a failure RetryIf accepts
// starts the next hedge without waiting for the delay (gRFC A6).
func TestHedgeRetryableFailureStartsNextAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		p := hedge.New(hedge.Config{Delay: 50 * time.Millisecond, MaxHedges: 2, Observer: rec})
		s := &script{steps: []func(context.Context) error{fails(2*time.Millisecond, errFlaky), takes(time.Millisecond)}}
		start := time.Now()
		require.NoError(t, p.Do(t.Context(), s.fn))
		assert.Equal(t, 3*time.Millisecond, time.Since(start))
		assert.Equal(t, 2, s.calls())
		hedges := rec.of(resilience.KindHedge)
		require.Len(t, hedges, 1)
		assert.Equal(t, time.Duration(0), hedges[0].Delay, "started by the failure, not the delay")
	})
}

// TestHedgeAllFailReturnsLastFailure: when every attempt fails, Do
// returns the last failure.
func TestHedgeAllFailReturnsLastFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := hedge.New(hedge.Config{Delay: 10 * time.Millisecond, MaxHedges: 2})
		errs := []error{errors.New("one"), errors.New("two"), errors.New("three")}
		s := &script{steps: []func(context.Context) error{
			fails(30*time.Millisecond, errs[0]), // ends last
			fails(5*time.Millisecond, errs[1]),  // 10→15ms
			fails(1*time.Millisecond, errs[2]),  // started at once at 15ms, ends at 16ms
		}}
		err := p.Do(t.Context(), s.fn)
		assert.ErrorIs(t, err, errs[0], "the first attempt's failure came last")
		assert.Equal(t, 3, s.calls())
	})
}

// TestHedgeAnswerEndsTheCall: a permanent error, or one RetryIf rejects,
// is the call's answer: returned at once, the other attempts cancelled.
func TestHedgeAnswerEndsTheCall(t *testing.T) {
	errNotFound := errors.New("not found")
	for name, c := range map[string]struct {
		cfg hedge.Config
		err error
	}{
		"permanent": {hedge.Config{Delay: 10 * time.Millisecond}, resilience.Permanent(errFlaky)},
		"RetryIf":   {hedge.Config{Delay: 10 * time.Millisecond, RetryIf: func(err error) bool { return !errors.Is(err, errNotFound) }}, errNotFound},
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := hedge.New(c.cfg)
				s := &script{steps: []func(context.Context) error{takes(time.Hour), fails(time.Millisecond, c.err)}}
				start := time.Now()
				err := p.Do(t.Context(), s.fn)
				assert.Equal(t, c.err, err)
				assert.Equal(t, 11*time.Millisecond, time.Since(start))
				synctest.Wait() // the cancelled first attempt returns
				assert.Equal(t, 1, int(s.cancelled.Load()))
			})
		})
	}
}

// TestHedgeCallerCancelEndsEverything: the caller's cancel ends every
// attempt and Do returns its error; no hedge starts after it.
func TestHedgeCallerCancelEndsEverything(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := hedge.New(hedge.Config{Delay: 10 * time.Millisecond, MaxHedges: 3})
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(15*time.Millisecond, cancel)
		s := &script{steps: []func(context.Context) error{takes(time.Hour)}}
		start := time.Now()
		err := p.Do(ctx, s.fn)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, 15*time.Millisecond, time.Since(start))
		synctest.Wait() // the cancelled attempts return
		assert.Equal(t, 2, s.calls())
		assert.Equal(t, 2, int(s.cancelled.Load()))
	})
}

// TestHedgeDoneContextRunsNothing: a context already done runs nothing.
func TestHedgeDoneContextRunsNothing(t *testing.T) {
	p := hedge.New(hedge.Config{})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	s := &script{steps: []func(context.Context) error{takes(0)}}
	assert.ErrorIs(t, p.Do(ctx, s.fn), context.Canceled)
	assert.Equal(t, 0, s.calls())
	assert.ErrorIs(t, p.Do(t.Context(), nil), resilience.ErrNilFunc)
}

// TestHedgeWithoutHedgesRunsOnce: a call marked WithoutHedges runs once,
// under the caller's own context, however slow.
func TestHedgeWithoutHedgesRunsOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := hedge.New(hedge.Config{Delay: time.Millisecond, MaxHedges: 3})
		ctx := hedge.WithoutHedges(t.Context())
		assert.False(t, hedge.Hedged(ctx))
		assert.True(t, hedge.Hedged(t.Context()))
		var got context.Context
		s := &script{steps: []func(context.Context) error{func(c context.Context) error { got = c; return work(c, time.Second) }}}
		require.NoError(t, p.Do(ctx, s.fn))
		assert.Equal(t, 1, s.calls())
		assert.Equal(t, ctx, got)
	})
}

// TestHedgeReturnsTheWinnerWhileALoserIgnoresCancel: a loser that ignores
// its cancel does not hold Do: the call returns with the winner's value,
// and the loser ends when its fn does (the bubble waits for it, so no
// goroutine is left behind).
func TestHedgeReturnsTheWinnerWhileALoserIgnoresCancel(t *testing.T) {
	for name, deafFirst := range map[string]bool{"first attempt deaf": true, "hedge deaf": false} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := hedge.New(hedge.Config{Delay: 10 * time.Millisecond})
				var loserDone atomic.Bool
				deaf := func(context.Context) error {
					time.Sleep(time.Second)
					loserDone.Store(true)
					return errFlaky
				}
				steps := []func(context.Context) error{deaf, takes(time.Millisecond)}
				want := 1 // the hedge's value: the calls seen when it started
				if !deafFirst {
					steps = []func(context.Context) error{takes(15 * time.Millisecond), deaf}
					want = 0
				}
				s := &script{steps: steps}
				start := time.Now()
				v, err := resilience.DoValue(t.Context(), p, func(ctx context.Context) (int, error) {
					n := s.calls()
					return n, s.fn(ctx)
				})
				require.NoError(t, err)
				assert.Equal(t, want, v)
				if deafFirst {
					assert.Equal(t, 11*time.Millisecond, time.Since(start), "Do returned with the hedge")
				} else {
					assert.Equal(t, 15*time.Millisecond, time.Since(start), "Do returned with the first attempt")
				}
				assert.False(t, loserDone.Load(), "the deaf loser is still running")
				time.Sleep(time.Second)
				synctest.Wait()
				assert.True(t, loserDone.Load(), "the loser ended when its fn did")
			})
		})
	}
}

// TestHedgeCallerCancelReturnsWhileAttemptsIgnoreIt: the caller's cancel
// ends the call at once even when no attempt honours it.
func TestHedgeCallerCancelReturnsWhileAttemptsIgnoreIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := hedge.New(hedge.Config{Delay: 10 * time.Millisecond})
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(15*time.Millisecond, cancel)
		start := time.Now()
		var value atomic.Int32
		v, err := resilience.DoValue(ctx, p, func(context.Context) (int32, error) {
			time.Sleep(time.Second) // deaf, and succeeds after the caller left
			return value.Add(1), nil
		})
		assert.ErrorIs(t, err, context.Canceled)
		assert.Zero(t, v, "no value of an attempt that finished after the call")
		assert.Equal(t, 15*time.Millisecond, time.Since(start))
		time.Sleep(time.Second)
		synctest.Wait()
		assert.Equal(t, int32(2), value.Load(), "both attempts ended when their fn did")
	})
}

// TestHedgeDoValueKeepsTheWinnersValue: the attempt whose value DoValue
// keeps is the attempt the hedge treats as the winner. Attempt 1's
// operation succeeds first (12ms), but a policy inside the hedge holds its
// return until 17ms; attempt 2 succeeds at 13ms and returns at once. The
// value is attempt 1's, and attempt 1 is not cancelled by attempt 2's
// later success: it claimed the win when its value was kept.
func TestHedgeDoValueKeepsTheWinnersValue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := hedge.New(hedge.Config{Delay: 10 * time.Millisecond})
		var n atomic.Int32
		var firstCancelled atomic.Bool
		hold := resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error {
			first := n.Add(1) == 1
			err := fn(ctx)
			if first {
				time.Sleep(5 * time.Millisecond) // ignores ctx
				firstCancelled.Store(ctx.Err() != nil)
			}
			return err
		})
		start := time.Now()
		v, err := resilience.DoValue(t.Context(), resilience.Chain(p, hold), func(ctx context.Context) (string, error) {
			if time.Since(start) == 0 {
				return "first", work(ctx, 12*time.Millisecond)
			}
			return "hedge", work(ctx, 3*time.Millisecond)
		})
		require.NoError(t, err)
		assert.Equal(t, "first", v)
		assert.False(t, firstCancelled.Load(), "the kept value's attempt was cancelled by a loser")
		assert.Equal(t, 17*time.Millisecond, time.Since(start))
	})
}

// TestHedgePanicReachesCaller: an attempt's panic, in a hedge's goroutine,
// comes back to the caller's goroutine.
func TestHedgePanicReachesCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := hedge.New(hedge.Config{Delay: 10 * time.Millisecond})
		s := &script{steps: []func(context.Context) error{takes(time.Hour), func(context.Context) error { panic("boom") }}}
		assert.PanicsWithValue(t, "boom", func() { _ = p.Do(t.Context(), s.fn) })
		synctest.Wait() // the cancelled first attempt returns
		assert.Equal(t, 1, int(s.cancelled.Load()), "the first attempt was cancelled")
	})
}

// TestHedgeChainMatchesDo: Chain(hedge, inner) behaves as hedge.Do with a
// closure over inner.Do.
func TestHedgeChainMatchesDo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		run := func(chained bool) (time.Duration, int, error) {
			p := hedge.New(hedge.Config{Delay: 10 * time.Millisecond})
			inner := resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error { return fn(ctx) })
			s := &script{steps: []func(context.Context) error{takes(time.Hour), fails(time.Millisecond, resilience.Permanent(errFlaky))}}
			start := time.Now()
			var err error
			if chained {
				err = resilience.Chain(p, inner).Do(t.Context(), s.fn)
			} else {
				err = p.Do(t.Context(), func(ctx context.Context) error { return inner.Do(ctx, s.fn) })
			}
			return time.Since(start), s.calls(), err
		}
		d1, n1, e1 := run(true)
		d2, n2, e2 := run(false)
		assert.Equal(t, d2, d1)
		assert.Equal(t, n2, n1)
		assert.Equal(t, fmt.Sprint(e2), fmt.Sprint(e1))
		assert.Equal(t, 11*time.Millisecond, d1)
	})
}

// TestHedgeObserverPanicReachesCaller: an observer that panics on
// KindHedge, in the hedge's goroutine, makes Do panic in the caller's
// goroutine once the first attempt has returned; nothing is left running.
func TestHedgeObserverPanicReachesCaller(t *testing.T) {
	for name, kind := range map[string]resilience.Kind{"hedge": resilience.KindHedge, "rejected": resilience.KindRejected} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				obs := resilience.ObserverFunc(func(e resilience.Event) {
					if e.Kind == kind {
						panic("observer")
					}
				})
				cfg := hedge.Config{Delay: 10 * time.Millisecond, Observer: obs}
				if kind == resilience.KindRejected {
					cfg.Budget = retry.NewBudget(retry.BudgetConfig{MinPerSecond: -1})
				}
				p := hedge.New(cfg)
				s := &script{steps: []func(context.Context) error{takes(time.Hour)}}
				assert.PanicsWithValue(t, "observer", func() { _ = p.Do(t.Context(), s.fn) })
				synctest.Wait() // the cancelled first attempt returns
				assert.Equal(t, 1, s.calls())
				assert.Equal(t, 1, int(s.cancelled.Load()), "the first attempt was cancelled")
			})
		})
	}
}

// TestHedgeNestedDoValue: a hedge inside a hedge returns the value of the
// attempt that won the outer race, and only it: the inner race's winner
// in the losing outer attempt keeps nothing.
func TestHedgeNestedDoValue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		outer := hedge.New(hedge.Config{Delay: 15 * time.Millisecond})
		inner := hedge.New(hedge.Config{Delay: 10 * time.Millisecond})
		var n atomic.Int32
		start := time.Now()
		v, err := resilience.DoValue(t.Context(), resilience.Chain(outer, inner), func(ctx context.Context) (int32, error) {
			i := n.Add(1)
			switch i {
			case 1: // outer 1, inner 1: hangs
				return i, work(ctx, time.Hour)
			case 2: // outer 1, inner 2 (10ms): done at 30ms
				return i, work(ctx, 20*time.Millisecond)
			}
			return i, work(ctx, 5*time.Millisecond) // outer 2, inner 1 (15ms): done at 20ms
		})
		require.NoError(t, err)
		assert.EqualValues(t, 3, v)
		assert.Equal(t, 20*time.Millisecond, time.Since(start))
	})
}

// TestHedgeRetryIfPanicReachesCaller: a RetryIf that panics decides the
// call: the other attempts are cancelled, then Do panics
// with its value; the policy serves the next call as before.
func TestHedgeRetryIfPanicReachesCaller(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := hedge.New(hedge.Config{Delay: 10 * time.Millisecond, RetryIf: func(err error) bool {
			if errors.Is(err, errFlaky) {
				panic("retryIf")
			}
			return true
		}})
		s := &script{steps: []func(context.Context) error{fails(20*time.Millisecond, errFlaky), takes(time.Hour)}}
		assert.PanicsWithValue(t, "retryIf", func() { _ = p.Do(t.Context(), s.fn) })
		synctest.Wait() // the cancelled hedge returns
		assert.Equal(t, 2, s.calls())
		assert.Equal(t, 1, int(s.cancelled.Load()), "the hedge was cancelled")
		assert.NoError(t, p.Do(t.Context(), func(ctx context.Context) error { return nil }))
	})
}
