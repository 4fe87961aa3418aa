package fallback_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/fallback"
)

func succeed(context.Context) error { return nil }

func fetchRate(context.Context) (float64, error) { return 1.08, nil }

func failRate(context.Context) (float64, error) { return 0, errDown }

func absorb(context.Context, error) error { return nil }

func TestPolicySuccessDoesNotAllocate(t *testing.T) {
	p := fallback.New(fallback.Config{Fallback: absorb})
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() { _ = p.Do(ctx, succeed) })
	assert.Zero(t, allocs)
}

func TestObservedPolicyAllocatesNothingButItsEvents(t *testing.T) {
	n := 0
	p := fallback.New(fallback.Config{Fallback: absorb, Observer: resilience.ObserverFunc(func(resilience.Event) { n++ })})
	ctx := context.Background()
	fail := failing(errDown)
	allocs := testing.AllocsPerRun(100, func() {
		_ = p.Do(ctx, succeed)
		_ = p.Do(ctx, fail)
	})
	assert.Zero(t, allocs)
	assert.Positive(t, n)
}

func TestCacheAllocatesNothingOnceAKeyIsStored(t *testing.T) {
	n := 0
	for _, o := range []resilience.Observer{nil, resilience.ObserverFunc(func(resilience.Event) { n++ })} {
		c := fallback.NewCache[string, float64](fallback.CacheConfig{Observer: o})
		ctx := context.Background()
		_, _ = c.Do(ctx, "EUR", fetchRate) // the first value for a key is stored once
		allocs := testing.AllocsPerRun(100, func() {
			_, _ = c.Do(ctx, "EUR", fetchRate)
			_, _ = c.Do(ctx, "EUR", failRate)
		})
		assert.Zero(t, allocs, "observed: %t", o != nil)
	}
	assert.Positive(t, n)
}

func BenchmarkPolicySuccess(b *testing.B) {
	p := fallback.New(fallback.Config{Fallback: absorb})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Do(ctx, succeed)
	}
}

func BenchmarkPolicyFallback(b *testing.B) {
	p := fallback.New(fallback.Config{Fallback: absorb})
	ctx := context.Background()
	fail := failing(errDown)
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Do(ctx, fail)
	}
}

// BenchmarkBareDoValue is the baseline for the typed forms: the same call
// under the same policy without a fallback.
func BenchmarkBareDoValue(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = resilience.DoValue(ctx, direct, fetchRate)
	}
}

func BenchmarkDoValueSuccess(b *testing.B) {
	ctx := context.Background()
	fb := func(context.Context, error) (float64, error) { return 1, nil }
	b.ReportAllocs()
	for b.Loop() {
		_, _ = fallback.DoValue(ctx, direct, fetchRate, fb)
	}
}

func BenchmarkCacheSuccess(b *testing.B) {
	c := fallback.NewCache[string, float64](fallback.CacheConfig{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = c.Do(ctx, "EUR", fetchRate)
	}
}

func BenchmarkCacheStale(b *testing.B) {
	c := fallback.NewCache[string, float64](fallback.CacheConfig{})
	ctx := context.Background()
	_, _ = c.Do(ctx, "EUR", fetchRate)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = c.Do(ctx, "EUR", failRate)
	}
}

func BenchmarkCacheSuccessParallel(b *testing.B) {
	c := fallback.NewCache[string, float64](fallback.CacheConfig{})
	ctx := context.Background()
	keys := make([]string, 64)
	for i := range keys {
		keys[i] = strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			_, _ = c.Do(ctx, keys[i%len(keys)], fetchRate)
			i++
		}
	})
}
