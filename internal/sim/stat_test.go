package sim_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/magicmagnets/resilience/internal/sim"
)

func TestSummarize(t *testing.T) {
	assert.Equal(t, sim.Stat{}, sim.Summarize(nil), "no values")
	assert.Equal(t, sim.Stat{Mean: 4}, sim.Summarize([]float64{4}), "one value has no standard error")
	// Mean 5, sample variance 32/7, standard error √(32/7)/√8.
	s := sim.Summarize([]float64{2, 4, 4, 4, 5, 5, 7, 9})
	assert.Equal(t, 5.0, s.Mean)
	assert.InDelta(t, math.Sqrt(32.0/7)/math.Sqrt(8), s.SE, 1e-12)
}

func TestHistogramQuantiles(t *testing.T) {
	h := sim.NewHistogram()
	assert.Zero(t, h.Quantile(0.5), "empty")
	for i := 1; i <= 100; i++ {
		h.Add(time.Duration(i)*time.Millisecond - time.Microsecond) // in bin i-1, upper edge i ms
	}
	assert.Equal(t, 50*time.Millisecond, h.Quantile(0.5))
	assert.Equal(t, 99*time.Millisecond, h.Quantile(0.99))
	assert.Equal(t, 100*time.Millisecond, h.Quantile(1))
	assert.Equal(t, time.Millisecond, h.Quantile(0), "a q of 0 gives the lowest bin that holds a value")

	o := sim.NewHistogram()
	o.Add(-time.Second) // counted in the first bin
	o.Add(time.Hour)    // counted in the last bin
	o.Add(time.Hour)    //
	h.Merge(o)          // 103 values
	assert.Equal(t, time.Millisecond, h.Quantile(0.01), "two values in the first bin")
	assert.Equal(t, 30*time.Second, h.Quantile(1), "the last bin's upper edge")
	assert.Equal(t, 100*time.Millisecond, h.Quantile(101.0/103))
}
