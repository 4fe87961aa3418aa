package fallback_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/fallback"
	"github.com/magicmagnets/resilience/resiliencetest"
)

// rates is a cache of exchange rates keyed by currency, used by the tests.
type rates = fallback.Cache[string, float64]

func newRates(c fallback.CacheConfig) *rates { return fallback.NewCache[string, float64](c) }

func TestCacheReturnsAFreshValueOnSuccess(t *testing.T) {
	c := newRates(fallback.CacheConfig{})
	got, err := c.Do(context.Background(), "EUR", value(1.08, nil))
	require.NoError(t, err)
	assert.Equal(t, fallback.Result[float64]{Value: 1.08}, got)
	assert.Equal(t, 1, c.Len())
}

func TestCacheServesTheLastGoodValueMarkedStale(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &resiliencetest.Recorder{}
		c := newRates(fallback.CacheConfig{Name: "rates", MaxStale: time.Minute, Observer: rec})
		ctx := context.Background()
		_, err := c.Do(ctx, "EUR", value(1.07, nil))
		require.NoError(t, err)
		time.Sleep(5 * time.Second)
		_, err = c.Do(ctx, "EUR", value(1.08, nil))
		require.NoError(t, err)
		time.Sleep(20 * time.Second)

		got, err := c.Do(ctx, "EUR", value(0.0, errDown))
		require.NoError(t, err)
		assert.Equal(t, fallback.Result[float64]{Value: 1.08, Stale: true, Age: 20 * time.Second, Err: errDown}, got)
		assert.Equal(t, []resilience.Event{{Policy: "fallback", Name: "rates", Kind: resilience.KindFallback, Err: errDown}}, fallbacks(rec))
	})
}

func TestCacheReturnsTheErrorOnceTheValueIsMaxStaleOld(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &resiliencetest.Recorder{}
		c := newRates(fallback.CacheConfig{MaxStale: 30 * time.Second, Observer: rec})
		ctx := context.Background()
		_, err := c.Do(ctx, "EUR", value(1.08, nil))
		require.NoError(t, err)

		time.Sleep(30*time.Second - time.Nanosecond)
		got, err := c.Do(ctx, "EUR", value(0.0, errDown))
		require.NoError(t, err, "a value younger than MaxStale is served")
		assert.Equal(t, 30*time.Second-time.Nanosecond, got.Age)

		time.Sleep(time.Nanosecond)
		got, err = c.Do(ctx, "EUR", value(0.0, errDown))
		assert.Equal(t, errDown, err, "a value exactly MaxStale old is not served")
		assert.Zero(t, got)
		assert.Len(t, fallbacks(rec), 1)
		assert.Zero(t, c.Len(), "the expired value is dropped")
	})
}

func TestCacheUsesDefaultLimits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newRates(fallback.CacheConfig{})
		ctx := context.Background()
		for i := range 1000 + 1 {
			_, err := c.Do(ctx, fmt.Sprint(i), value(float64(i), nil))
			require.NoError(t, err)
		}
		assert.Equal(t, 1000, c.Len())

		time.Sleep(time.Minute - time.Nanosecond)
		got, err := c.Do(ctx, "1", value(0.0, errDown))
		require.NoError(t, err)
		assert.True(t, got.Stale)
		time.Sleep(time.Nanosecond)
		_, err = c.Do(ctx, "1", value(0.0, errDown))
		assert.Equal(t, errDown, err)
	})
}

func TestCacheReturnsTheErrorWhenNothingIsRemembered(t *testing.T) {
	rec := &resiliencetest.Recorder{}
	c := newRates(fallback.CacheConfig{Observer: rec})
	ctx := context.Background()
	_, err := c.Do(ctx, "EUR", value(1.08, nil))
	require.NoError(t, err)
	got, err := c.Do(ctx, "GBP", value(0.0, errDown))
	assert.Equal(t, errDown, err, "keys are kept apart")
	assert.Zero(t, got)
	assert.Empty(t, fallbacks(rec))
}

func TestCacheForgetsTheLeastRecentlyUpdatedKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newRates(fallback.CacheConfig{MaxKeys: 2})
		ctx := context.Background()
		for _, k := range []string{"EUR", "GBP", "EUR", "JPY"} {
			_, err := c.Do(ctx, k, value(1.0, nil))
			require.NoError(t, err)
			time.Sleep(time.Second)
		}
		assert.Equal(t, 2, c.Len())
		_, err := c.Do(ctx, "GBP", value(0.0, errDown))
		assert.Equal(t, errDown, err, "GBP was updated least recently")
		for _, k := range []string{"EUR", "JPY"} {
			got, err := c.Do(ctx, k, value(0.0, errDown))
			require.NoError(t, err, k)
			assert.True(t, got.Stale, k)
		}
	})
}

func TestCacheDropsExpiredValuesWhenStoring(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newRates(fallback.CacheConfig{MaxStale: time.Minute})
		ctx := context.Background()
		for _, k := range []string{"EUR", "GBP"} {
			_, err := c.Do(ctx, k, value(1.0, nil))
			require.NoError(t, err)
		}
		time.Sleep(time.Minute)
		_, err := c.Do(ctx, "JPY", value(150.0, nil))
		require.NoError(t, err)
		assert.Equal(t, 1, c.Len())
	})
}

func TestCacheIgnoresCallerCancel(t *testing.T) {
	rec := &resiliencetest.Recorder{}
	c := newRates(fallback.CacheConfig{FallbackIf: func(error) bool { return true }, Observer: rec})
	_, err := c.Do(context.Background(), "EUR", value(1.08, nil))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got, err := c.Do(ctx, "EUR", func(ctx context.Context) (float64, error) { return 0, ctx.Err() })
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, got)
	assert.Empty(t, fallbacks(rec))
}

func TestCacheServesOnlyErrorsFallbackIfAccepts(t *testing.T) {
	errNotFound := errors.New("no such currency")
	c := newRates(fallback.CacheConfig{FallbackIf: func(err error) bool { return !errors.Is(err, errNotFound) }})
	ctx := context.Background()
	_, err := c.Do(ctx, "EUR", value(1.08, nil))
	require.NoError(t, err)
	_, err = c.Do(ctx, "EUR", value(0.0, errNotFound))
	assert.Equal(t, errNotFound, err)
	got, err := c.Do(ctx, "EUR", value(0.0, errDown))
	require.NoError(t, err)
	assert.True(t, got.Stale)
}

func TestCacheRunsFnOnce(t *testing.T) {
	c := newRates(fallback.CacheConfig{})
	calls := 0
	fetch := func(context.Context) (float64, error) { calls++; return 0, errDown }
	_, err := c.Do(context.Background(), "EUR", fetch)
	assert.Equal(t, errDown, err)
	assert.Equal(t, 1, calls, "a Cache retries nothing by itself")
}

func TestCacheAnswersOnceThePolicyInFnGivesUp(t *testing.T) {
	synctest.Test(t, testCacheAnswersOnceThePolicyInFnGivesUp)
}

func testCacheAnswersOnceThePolicyInFnGivesUp(t *testing.T) {
	c := newRates(fallback.CacheConfig{})
	ctx := context.Background()
	under := func(dep resilience.Policy) func(context.Context) (float64, error) {
		return func(ctx context.Context) (float64, error) {
			return resilience.DoValue(ctx, resilience.Chain(retryN(3), dep), value(1.08, nil))
		}
	}

	dep := resiliencetest.FailFirst(2, errDown)
	got, err := c.Do(ctx, "EUR", under(dep))
	require.NoError(t, err)
	assert.Equal(t, fallback.Result[float64]{Value: 1.08}, got, "the policy's third attempt succeeded")
	assert.Equal(t, 3, dep.Calls())

	dep = resiliencetest.FailFirst(3, errDown)
	got, err = c.Do(ctx, "EUR", under(dep))
	require.NoError(t, err)
	assert.Equal(t, fallback.Result[float64]{Value: 1.08, Stale: true, Err: errDown}, got, "served once the policy gave up")
	assert.Equal(t, 3, dep.Calls())
}

func TestCacheForget(t *testing.T) {
	c := newRates(fallback.CacheConfig{})
	ctx := context.Background()
	_, err := c.Do(ctx, "EUR", value(1.08, nil))
	require.NoError(t, err)
	c.Forget("EUR")
	c.Forget("GBP")
	assert.Zero(t, c.Len())
	_, err = c.Do(ctx, "EUR", value(0.0, errDown))
	assert.Equal(t, errDown, err)
}

func TestCacheRejectsNilFunc(t *testing.T) {
	c := newRates(fallback.CacheConfig{})
	_, err := c.Do(context.Background(), "EUR", nil)
	assert.ErrorIs(t, err, resilience.ErrNilFunc)
	assert.Zero(t, c.Len())
}

func TestNewCachePanicsOnNegativeLimits(t *testing.T) {
	assert.PanicsWithValue(t, "fallback: negative CacheConfig.MaxKeys -1", func() {
		fallback.NewCache[string, int](fallback.CacheConfig{MaxKeys: -1})
	})
	assert.PanicsWithValue(t, "fallback: negative CacheConfig.MaxStale -1s", func() {
		fallback.NewCache[string, int](fallback.CacheConfig{MaxStale: -time.Second})
	})
}

func TestCacheIsSafeForConcurrentUse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const maxKeys, workers, calls = 4, 8, 200
		c := fallback.NewCache[int, int](fallback.CacheConfig{MaxKeys: maxKeys, MaxStale: 50 * time.Millisecond})
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := range calls {
					key := (w + i) % (2 * maxKeys)
					fetch := value(key, nil) // a key's value is the key itself
					if i%3 == 0 {
						fetch = value(0, errDown)
					}
					got, err := c.Do(context.Background(), key, fetch)
					if err == nil {
						assert.Equal(t, key, got.Value)
						assert.Less(t, got.Age, 50*time.Millisecond)
					}
					time.Sleep(time.Millisecond)
				}
			})
		}
		wg.Wait()
		assert.LessOrEqual(t, c.Len(), maxKeys)
	})
}

func TestCacheServesTheLastGoodValueInPlaceOfInvalidAnswers(t *testing.T) {
	errNotPositive := errors.New("rate not positive")
	check := func(rate float64) error {
		if rate <= 0 {
			return errNotPositive
		}
		return nil
	}
	c := newRates(fallback.CacheConfig{})
	ctx := context.Background()
	fetch := func(rate float64) func(context.Context) (float64, error) {
		return func(ctx context.Context) (float64, error) {
			return resilience.DoValue(ctx, retryN(3), resilience.Validate(value(rate, nil), check))
		}
	}
	_, err := c.Do(ctx, "EUR", fetch(1.08))
	require.NoError(t, err)

	got, err := c.Do(ctx, "EUR", fetch(-1.0))
	require.NoError(t, err)
	assert.Equal(t, 1.08, got.Value, "the invalid answer is never served")
	assert.True(t, got.Stale)
	assert.ErrorIs(t, got.Err, resilience.ErrInvalid)
}
