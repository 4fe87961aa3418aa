package resilienceotel_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/timeout"
)

func TestCallsAreRecordedInSecondsByOutcome(t *testing.T) {
	obs, reader := setup(t)
	rejected := fmt.Errorf("bulkhead full: %w", resilience.ErrRejected)
	for _, e := range []resilience.Event{
		{Policy: "retry", Name: "payments", Kind: resilience.KindCall, Duration: 100 * time.Millisecond},
		{Policy: "retry", Name: "payments", Kind: resilience.KindCall, Duration: 200 * time.Millisecond},
		{Policy: "retry", Name: "payments", Kind: resilience.KindCall, Duration: 2 * time.Second, Err: errBoom},
		{Policy: "retry", Name: "payments", Kind: resilience.KindCall, Duration: time.Second, Err: context.Canceled},
		{Policy: "retry", Name: "payments", Kind: resilience.KindCall, Err: rejected},
		{Policy: "timeout", Kind: resilience.KindCall, Duration: 500 * time.Millisecond},
	} {
		obs.Observe(e)
	}

	c := collect(t, reader)
	assert.Equal(t, map[string]hist{
		"name=payments,outcome=success,policy=retry":  {Count: 2, Sum: 0.3},
		"name=payments,outcome=failure,policy=retry":  {Count: 2, Sum: 3},
		"name=payments,outcome=rejected,policy=retry": {Count: 1, Sum: 0},
		"outcome=success,policy=timeout":              {Count: 1, Sum: 0.5},
	}, roundSums(c.histograms(t, "resilience.call.duration")))
	assert.Empty(t, c.counts(t, "resilience.events"), "calls are counted by their histogram only")
}

// A breaker's calls, through the real policy: the ones it ran, by outcome,
// and the ones it rejected while open.
func TestBreakerCallsAreRecordedWithTheirOutcome(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		obs, reader := setup(t)
		b := breaker.New(breaker.Config{Name: "db", ConsecutiveFailures: 1, OpenFor: time.Minute, Observer: obs})
		ctx := context.Background()
		taking := func(d time.Duration, err error) resilience.Func {
			return func(context.Context) error { time.Sleep(d); return err }
		}

		require.NoError(t, b.Do(ctx, taking(300*time.Millisecond, nil)))
		require.ErrorIs(t, b.Do(ctx, taking(time.Second, errBoom)), errBoom) // trips
		require.ErrorIs(t, b.Do(ctx, ok), breaker.ErrOpen)
		require.ErrorIs(t, b.Do(ctx, ok), breaker.ErrOpen)

		assert.Equal(t, map[string]hist{
			"name=db,outcome=success,policy=breaker":  {Count: 1, Sum: 0.3},
			"name=db,outcome=failure,policy=breaker":  {Count: 1, Sum: 1},
			"name=db,outcome=rejected,policy=breaker": {Count: 2, Sum: 0},
		}, roundSums(collect(t, reader).histograms(t, "resilience.call.duration")))
	})
}

func TestTimeoutsRecordTheTimeTheyAllowed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		obs, reader := setup(t)
		p := timeout.New(1500*time.Millisecond).WithObserver("db", obs)

		err := p.Do(context.Background(), func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		})
		require.ErrorIs(t, err, timeout.ErrTimeout)

		assert.Equal(t, map[string]hist{
			"name=db,policy=timeout": {Count: 1, Sum: 1.5},
		}, collect(t, reader).histograms(t, "resilience.timeout.duration"))
	})
}

// Slow calls and timeouts are read from Duration; a Delay on them (a wait)
// is not what they took or were allowed.
func TestSlowCallsAndTimeoutsReadDurationNotDelay(t *testing.T) {
	obs, reader := setup(t)
	obs.Observe(resilience.Event{Policy: "breaker", Kind: resilience.KindSlowCall, Duration: 2 * time.Second, Delay: time.Hour})
	obs.Observe(resilience.Event{Policy: "timeout", Kind: resilience.KindTimeout, Duration: time.Second, Delay: time.Hour})

	c := collect(t, reader)
	assert.Equal(t, map[string]hist{"policy=breaker": {Count: 1, Sum: 2}}, c.histograms(t, "resilience.call.slow.duration"))
	assert.Equal(t, map[string]hist{"policy=timeout": {Count: 1, Sum: 1}}, c.histograms(t, "resilience.timeout.duration"))
}

func TestObserveAllocatesNothingForAKnownCombination(t *testing.T) {
	obs, _ := setup(t)
	for _, e := range []resilience.Event{
		{Policy: "breaker", Name: "db", Kind: resilience.KindCall, Duration: time.Millisecond},
		{Policy: "breaker", Name: "db", Kind: resilience.KindCall, Duration: time.Millisecond, Err: errBoom},
		{Policy: "breaker", Name: "db", Kind: resilience.KindCall, Err: breaker.ErrOpen},
		{Policy: "breaker", Name: "db", Kind: resilience.KindRejected, Delay: time.Second, Err: breaker.ErrOpen},
		{Policy: "breaker", Name: "db", Kind: resilience.KindSlowCall, Duration: time.Second},
		{Policy: "breaker", Name: "db", Kind: resilience.KindStateChange, From: "closed", To: "open"},
		{Policy: "retry", Name: "db", Kind: resilience.KindRetry, Attempt: 1, Delay: time.Second, Err: errBoom},
		{Policy: "timeout", Name: "db", Kind: resilience.KindTimeout, Duration: time.Second, Err: errors.New("late")},
	} {
		obs.Observe(e) // the first event of a combination builds its attributes
		allocs := testing.AllocsPerRun(100, func() { obs.Observe(e) })
		assert.Zero(t, allocs, "%s %v", e.Kind, e.Err)
	}
}

// roundSums rounds each sum to the microsecond, so that sums of durations
// in seconds compare exactly.
func roundSums(hs map[string]hist) map[string]hist {
	for k, h := range hs {
		h.Sum = math.Round(h.Sum*1e6) / 1e6
		hs[k] = h
	}
	return hs
}
