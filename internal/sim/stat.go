package sim

import (
	"math"
	"time"
)

// Stat is the mean of a sample and its standard error.
type Stat struct {
	Mean, SE float64
}

// Summarize returns the mean of xs and its standard error, s/√n with the
// sample standard deviation s (0 for fewer than two values). An empty xs
// gives the zero Stat.
func Summarize(xs []float64) Stat {
	n := float64(len(xs))
	if n == 0 {
		return Stat{}
	}
	var sum float64
	for _, x := range xs {
		sum += x
	}
	mean := sum / n
	if n < 2 {
		return Stat{Mean: mean}
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return Stat{Mean: mean, SE: math.Sqrt(ss/(n-1)) / math.Sqrt(n)}
}

// Histogram counts latencies in 1 ms bins up to 30 s (negative ones in the
// first bin, longer ones in the last), so that many runs' latencies pool
// cheaply into quantiles. Make one with NewHistogram.
type Histogram struct {
	bins []int64
	n    int64
}

const histBins = 30_000

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram { return &Histogram{bins: make([]int64, histBins)} }

// Add counts one latency.
func (h *Histogram) Add(d time.Duration) {
	h.bins[min(max(int(d/time.Millisecond), 0), histBins-1)]++
	h.n++
}

// Merge adds o's counts to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.bins {
		h.bins[i] += c
	}
	h.n += o.n
}

// Quantile returns the upper edge of the bin that holds the q-quantile
// (0 < q ≤ 1; a q of 0 or less gives the lowest bin that holds a value), or
// 0 when h is empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.n)))
	var seen int64
	for i, c := range h.bins {
		seen += c
		if seen >= max(rank, 1) {
			return time.Duration(i+1) * time.Millisecond
		}
	}
	return histBins * time.Millisecond
}
