package quantile_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"

	"github.com/magicmagnets/resilience/internal/quantile"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRingNeedsEnoughSamples: a 0.95 ring says nothing before 20 samples,
// a 0.99 ring nothing before 100, a 0.5 ring nothing before 10.
func TestRingNeedsEnoughSamples(t *testing.T) {
	for _, c := range []struct {
		q    float64
		need int
	}{{0.95, 20}, {0.99, 100}, {0.5, 10}, {0.999, 1000}} {
		r := quantile.New(c.q, 1000)
		for range c.need - 1 {
			r.Add(time.Millisecond)
		}
		_, ok := r.Quantile()
		assert.False(t, ok, "q=%v with %d samples", c.q, c.need-1)
		r.Add(time.Millisecond)
		_, ok = r.Quantile()
		assert.True(t, ok, "q=%v with %d samples", c.q, c.need)
	}
}

// TestRingNearestRank: over 1..100 ms the 0.95-quantile is 95 ms and the
// 0.5-quantile 50 ms, whatever the order of arrival.
func TestRingNearestRank(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	order := rng.Perm(100)
	r95, r50 := quantile.New(0.95, 100), quantile.New(0.5, 100)
	for _, i := range order {
		r95.Add(time.Duration(i+1) * time.Millisecond)
		r50.Add(time.Duration(i+1) * time.Millisecond)
	}
	q, ok := r95.Quantile()
	assert.True(t, ok)
	assert.Equal(t, 95*time.Millisecond, q)
	q, _ = r50.Quantile()
	assert.Equal(t, 50*time.Millisecond, q)
}

// TestRingForgetsOldSamples: memory is bounded by the ring; once 100 slow
// samples have been replaced by 100 fast ones, the estimate is fast.
func TestRingForgetsOldSamples(t *testing.T) {
	r := quantile.New(0.9, 100)
	for range 100 {
		r.Add(time.Second)
	}
	q, _ := r.Quantile()
	assert.Equal(t, time.Second, q)
	for range 100 {
		r.Add(time.Millisecond)
	}
	q, _ = r.Quantile()
	assert.Equal(t, time.Millisecond, q)
}

// TestRingRecomputesAfterASixteenth: the estimate is cached until a
// sixteenth of the ring is new, then follows the samples.
func TestRingRecomputesAfterASixteenth(t *testing.T) {
	r := quantile.New(0.5, 160)
	for range 160 {
		r.Add(time.Millisecond)
	}
	q, _ := r.Quantile()
	assert.Equal(t, time.Millisecond, q)
	for range 9 {
		r.Add(time.Hour)
	}
	q, _ = r.Quantile()
	assert.Equal(t, time.Millisecond, q, "9 new samples of 160: cached")
	for range 81 {
		r.Add(time.Hour)
	}
	q, _ = r.Quantile()
	assert.Equal(t, time.Hour, q, "90 of 160 samples are an hour")
}

// TestRingConcurrentUse is for the race detector.
func TestRingConcurrentUse(t *testing.T) {
	r := quantile.New(0.95, 64)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 1000 {
				r.Add(time.Duration(g*1000 + i))
				r.Quantile()
			}
		})
	}
	wg.Wait()
	_, ok := r.Quantile()
	assert.True(t, ok)
}

// TestRingMatchesSortedRank: on random samples, with duplicates, the
// estimate is the sorted samples' nearest-rank element, for many q.
func TestRingMatchesSortedRank(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, q := range []float64{0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999} {
		for _, n := range []int{1000, 1001, 1500} {
			r := quantile.New(q, 1000)
			var all []time.Duration
			for range n {
				d := time.Duration(rng.IntN(50))
				r.Add(d)
				all = append(all, d)
			}
			last := slices.Clone(all[len(all)-1000:])
			slices.Sort(last)
			want := last[int(math.Ceil(q*1000))-1]
			got, ok := r.Quantile()
			assert.True(t, ok)
			assert.Equal(t, want, got, "q=%v n=%d", q, n)
		}
	}
}
