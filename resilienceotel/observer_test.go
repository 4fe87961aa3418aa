package resilienceotel_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/resilienceotel"
	"github.com/magicmagnets/resilience/retry"
	"github.com/magicmagnets/resilience/timeout"
)

var errBoom = errors.New("boom")

func boom(context.Context) error { return errBoom }

func ok(context.Context) error { return nil }

func TestRetriesAndGiveUpAreCountedWithTheirDelays(t *testing.T) {
	obs, reader := setup(t)
	r := retry.New(retry.Config{Name: "payments", MaxAttempts: 3, Backoff: backoff.Constant(0), Observer: obs})

	err := r.Do(context.Background(), boom)
	require.ErrorIs(t, err, retry.ErrExhausted)

	c := collect(t, reader)
	assert.Equal(t, map[string]int64{
		"kind=retry,name=payments,policy=retry":   2,
		"kind=give_up,name=payments,policy=retry": 1,
	}, c.counts(t, "resilience.events"))
	assert.Equal(t, map[string]hist{
		"name=payments,policy=retry": {Count: 2, Sum: 0},
	}, c.histograms(t, "resilience.retry.delay"))
	assert.Empty(t, c.counts(t, "resilience.breaker.transitions"))
	assert.Empty(t, c.histograms(t, "resilience.call.slow.duration"))
}

func TestRetryDelaysAreRecordedInSeconds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		obs, reader := setup(t)
		r := retry.New(retry.Config{Name: "payments", MaxAttempts: 4, Backoff: backoff.Constant(250 * time.Millisecond), Observer: obs})

		_ = r.Do(context.Background(), boom)

		assert.Equal(t, map[string]hist{
			"name=payments,policy=retry": {Count: 3, Sum: 0.75},
		}, collect(t, reader).histograms(t, "resilience.retry.delay"))
	})
}

func TestBreakerTransitionsAndRejectionsAreCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		obs, reader := setup(t)
		b := breaker.New(breaker.Config{Name: "db", ConsecutiveFailures: 2, OpenFor: 5 * time.Second, Observer: obs})
		ctx := context.Background()

		_ = b.Do(ctx, boom)
		_ = b.Do(ctx, boom) // trips
		require.Equal(t, breaker.Open, b.State())
		require.ErrorIs(t, b.Do(ctx, ok), breaker.ErrOpen)
		require.ErrorIs(t, b.Do(ctx, ok), breaker.ErrOpen)
		time.Sleep(5 * time.Second)
		require.NoError(t, b.Do(ctx, ok)) // the probe closes it
		require.Equal(t, breaker.Closed, b.State())

		c := collect(t, reader)
		assert.Equal(t, map[string]int64{
			"from=closed,name=db,policy=breaker,to=open":      1,
			"from=open,name=db,policy=breaker,to=half-open":   1,
			"from=half-open,name=db,policy=breaker,to=closed": 1,
		}, c.counts(t, "resilience.breaker.transitions"))
		assert.Equal(t, map[string]int64{
			"kind=state_change,name=db,policy=breaker": 3,
			"kind=rejected,name=db,policy=breaker":     2,
		}, c.counts(t, "resilience.events"))
	})
}

func TestSlowCallDurationsAreRecorded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		obs, reader := setup(t)
		b := breaker.New(breaker.Config{Name: "db", SlowCallDuration: 100 * time.Millisecond, Observer: obs})
		slow := func(d time.Duration) resilience.Func {
			return func(context.Context) error { time.Sleep(d); return nil }
		}

		require.NoError(t, b.Do(context.Background(), slow(300*time.Millisecond)))
		require.NoError(t, b.Do(context.Background(), slow(50*time.Millisecond))) // not slow
		require.NoError(t, b.Do(context.Background(), slow(1500*time.Millisecond)))

		c := collect(t, reader)
		assert.Equal(t, map[string]hist{
			"name=db,policy=breaker": {Count: 2, Sum: 1.8},
		}, c.histograms(t, "resilience.call.slow.duration"))
		assert.Equal(t, map[string]int64{
			"kind=slow_call,name=db,policy=breaker": 2,
		}, c.counts(t, "resilience.events"))
	})
}

func TestEventsWithoutANameHaveNoNameAttribute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		obs, reader := setup(t)
		p := timeout.New(time.Second).WithObserver("", obs)

		err := p.Do(context.Background(), func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		})
		require.ErrorIs(t, err, timeout.ErrTimeout)

		assert.Equal(t, map[string]int64{
			"kind=timeout,policy=timeout": 1,
		}, collect(t, reader).counts(t, "resilience.events"))
	})
}

func TestSharedObserverKeepsPoliciesApart(t *testing.T) {
	obs, reader := setup(t)
	ctx := context.Background()
	a := retry.New(retry.Config{Name: "a", MaxAttempts: 2, Backoff: backoff.Constant(0), Observer: obs})
	b := retry.New(retry.Config{Name: "b", MaxAttempts: 3, Backoff: backoff.Constant(0), Observer: obs})
	br := breaker.New(breaker.Config{Name: "a", ConsecutiveFailures: 1, Observer: obs})

	_ = a.Do(ctx, boom)
	_ = b.Do(ctx, boom)
	_ = br.Do(ctx, boom)

	assert.Equal(t, map[string]int64{
		"kind=retry,name=a,policy=retry":          1,
		"kind=give_up,name=a,policy=retry":        1,
		"kind=retry,name=b,policy=retry":          2,
		"kind=give_up,name=b,policy=retry":        1,
		"kind=state_change,name=a,policy=breaker": 1,
	}, collect(t, reader).counts(t, "resilience.events"))
}

func TestNilObserverRecordsNothing(t *testing.T) {
	var obs *resilienceotel.Observer
	assert.NotPanics(t, func() {
		obs.Observe(resilience.Event{Policy: "retry", Kind: resilience.KindRetry})
	})
}

func TestNewRejectsNilMeter(t *testing.T) {
	obs, err := resilienceotel.New(nil)
	assert.ErrorIs(t, err, resilienceotel.ErrNilMeter)
	assert.Nil(t, obs)
}
