package resiliencetest_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/resiliencetest"
)

// counting returns an operation that counts its runs and returns err.
func counting(runs *int, err error) resilience.Func {
	return func(context.Context) error {
		*runs++
		return err
	}
}

// outcomes runs p n times and reports, per call, whether it failed.
func outcomes(p resilience.Policy, n int) []bool {
	failed := make([]bool, n)
	for i := range failed {
		failed[i] = p.Do(context.Background(), func(context.Context) error { return nil }) != nil
	}
	return failed
}

func TestFailFirstFailsExactlyTheFirstNCalls(t *testing.T) {
	in := resiliencetest.FailFirst(2, nil)
	runs := 0
	op := counting(&runs, nil)

	assert.ErrorIs(t, in.Do(context.Background(), op), resiliencetest.ErrInjected)
	assert.ErrorIs(t, in.Do(context.Background(), op), resiliencetest.ErrInjected)
	assert.NoError(t, in.Do(context.Background(), op))
	assert.NoError(t, in.Do(context.Background(), op))

	assert.Equal(t, 2, runs, "failed calls must not run the operation")
	assert.Equal(t, 4, in.Calls())
	assert.Equal(t, 2, in.Injected())
}

func TestFailFirstReturnsTheGivenError(t *testing.T) {
	want := errors.New("connection refused")
	err := resiliencetest.FailFirst(1, want).Do(context.Background(), func(context.Context) error { return nil })
	assert.ErrorIs(t, err, want)
}

func TestFailRateIsDeterministicForASeed(t *testing.T) {
	a := outcomes(resiliencetest.AtRate(0.5, 42, resiliencetest.Fail(nil)), 200)
	b := outcomes(resiliencetest.AtRate(0.5, 42, resiliencetest.Fail(nil)), 200)
	c := outcomes(resiliencetest.AtRate(0.5, 43, resiliencetest.Fail(nil)), 200)
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, c)
}

func TestFailRateFailsRoughlyTheGivenShare(t *testing.T) {
	in := resiliencetest.AtRate(0.3, 7, resiliencetest.Fail(nil))
	failed := 0
	for _, f := range outcomes(in, 10000) {
		if f {
			failed++
		}
	}
	assert.InDelta(t, 3000, failed, 200)
	assert.Equal(t, failed, in.Injected())
	assert.Equal(t, 10000, in.Calls())
}

func TestFailRateExtremes(t *testing.T) {
	assert.NotContains(t, outcomes(resiliencetest.AtRate(0, 1, resiliencetest.Fail(nil)), 100), true)
	assert.NotContains(t, outcomes(resiliencetest.AtRate(1, 1, resiliencetest.Fail(nil)), 100), false)
}

func TestAtRatePanicsOnARateOutsideZeroToOne(t *testing.T) {
	assert.PanicsWithValue(t, "resiliencetest: rate 1.5 outside [0, 1]", func() { resiliencetest.AtRate(1.5, 1, resiliencetest.Fail(nil)) })
	assert.Panics(t, func() { resiliencetest.AtRate(-0.1, 1, resiliencetest.Fail(nil)) })
}

func TestLatencyDelaysTheOperation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var ranAt time.Time
		err := resiliencetest.Always(resiliencetest.Delay(3*time.Second)).Do(context.Background(), func(context.Context) error {
			ranAt = time.Now()
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, 3*time.Second, ranAt.Sub(start))
	})
}

func TestLatencyReturnsTheContextErrorWhenItEndsFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		runs := 0
		err := resiliencetest.Always(resiliencetest.Delay(time.Minute)).Do(ctx, counting(&runs, nil))
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, time.Second, time.Since(start))
		assert.Zero(t, runs)
	})
}

func TestPanicsPanicsWithTheValue(t *testing.T) {
	runs := 0
	assert.PanicsWithValue(t, "boom", func() {
		_ = resiliencetest.Always(resiliencetest.Panic("boom")).Do(context.Background(), counting(&runs, nil))
	})
	assert.Zero(t, runs)
	assert.PanicsWithValue(t, resiliencetest.ErrInjected, func() {
		_ = resiliencetest.Always(resiliencetest.Panic(nil)).Do(context.Background(), counting(&runs, nil))
	})
}

func TestLoseRunsTheOperationAndReturnsTheError(t *testing.T) {
	runs := 0
	err := resiliencetest.Always(resiliencetest.Lose(nil)).Do(context.Background(), counting(&runs, nil))
	assert.ErrorIs(t, err, resiliencetest.ErrInjected)
	assert.Equal(t, 1, runs)
}

func TestScriptPlaysItsFaultsInOrderThenPasses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errA := errors.New("a")
		in := resiliencetest.Script(
			resiliencetest.Fail(errA),
			resiliencetest.Delay(time.Second),
			resiliencetest.Pass(),
			resiliencetest.Panic("p"),
		)
		ctx := context.Background()
		runs := 0
		op := counting(&runs, nil)

		assert.ErrorIs(t, in.Do(ctx, op), errA)
		start := time.Now()
		assert.NoError(t, in.Do(ctx, op))
		assert.Equal(t, time.Second, time.Since(start))
		assert.NoError(t, in.Do(ctx, op))
		assert.Panics(t, func() { _ = in.Do(ctx, op) })
		for range 3 {
			assert.NoError(t, in.Do(ctx, op), "after the script every call passes")
		}
		assert.Equal(t, 5, runs)
		assert.Equal(t, 7, in.Calls())
		assert.Equal(t, 3, in.Injected())
	})
}

func TestCycleRepeatsItsFaults(t *testing.T) {
	in := resiliencetest.Cycle(resiliencetest.Fail(nil), resiliencetest.Pass(), resiliencetest.Pass())
	assert.Equal(t, []bool{true, false, false, true, false, false, true}, outcomes(in, 7))
	assert.Equal(t, []bool{false, false}, outcomes(resiliencetest.Cycle(), 2))
}

func TestZeroInjectorLetsEveryCallThrough(t *testing.T) {
	var in resiliencetest.Injector
	assert.Equal(t, []bool{false, false}, outcomes(&in, 2))
	assert.Equal(t, 2, in.Calls())
	assert.Zero(t, in.Injected())
}

func TestWithoutFaultsBypassesTheRuleAndKeepsItsPlace(t *testing.T) {
	in := resiliencetest.FailFirst(1, nil)
	runs := 0
	op := counting(&runs, nil)

	assert.NoError(t, in.Do(resiliencetest.WithFault(context.Background(), resiliencetest.Pass()), op))
	assert.ErrorIs(t, in.Do(context.Background(), op), resiliencetest.ErrInjected, "the bypassed call must not use up the script")
	assert.NoError(t, in.Do(context.Background(), op))
	assert.Equal(t, 2, runs)
	assert.Equal(t, 3, in.Calls())
	assert.Equal(t, 1, in.Injected())
}

func TestWithFaultForcesAFault(t *testing.T) {
	want := errors.New("forced")
	var in resiliencetest.Injector
	ctx := resiliencetest.WithFault(context.Background(), resiliencetest.Fail(want))
	runs := 0
	assert.ErrorIs(t, in.Do(ctx, counting(&runs, nil)), want)
	assert.Zero(t, runs)
	assert.Equal(t, 1, in.Injected())
}

func TestInjectorInsideAChainSeesTheInnermostCall(t *testing.T) {
	in := resiliencetest.FailFirst(1, nil)
	outer := resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error {
		if err := fn(ctx); err != nil {
			return fn(ctx) // one retry
		}
		return nil
	})
	runs := 0
	require.NoError(t, resilience.Chain(outer, in).Do(context.Background(), counting(&runs, nil)))
	assert.Equal(t, 1, runs)
	assert.Equal(t, 2, in.Calls())
}

func TestInjectorRejectsANilFunc(t *testing.T) {
	in := resiliencetest.FailFirst(1, nil)
	assert.ErrorIs(t, in.Do(context.Background(), nil), resilience.ErrNilFunc)
	assert.Zero(t, in.Calls())
}

func TestInjectorCountsConcurrentCallsExactly(t *testing.T) {
	in := resiliencetest.FailFirst(500, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for range 8 {
		wg.Go(func() {
			for range 250 {
				if in.Do(context.Background(), func(context.Context) error { return nil }) != nil {
					mu.Lock()
					failed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 500, failed)
	assert.Equal(t, 2000, in.Calls())
	assert.Equal(t, 500, in.Injected())
}

func TestFaultStringDescribesTheFault(t *testing.T) {
	assert.Equal(t, "pass", resiliencetest.Pass().String())
	assert.Equal(t, "fail(resiliencetest: injected fault)", resiliencetest.Fail(nil).String())
	assert.Equal(t, "delay(2s)", resiliencetest.Delay(2*time.Second).String())
	assert.Equal(t, "lose(x)", resiliencetest.Lose(errors.New("x")).String())
	assert.Equal(t, "panic(v)", resiliencetest.Panic("v").String())
}
