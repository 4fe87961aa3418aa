package main

import (
	"math"
	"time"
)

// stat is the mean of a sample and its standard error.
type stat struct {
	Mean, SE float64
}

// summarize returns the mean of xs and its standard error, s/√n with the
// sample standard deviation s (0 for fewer than two values).
func summarize(xs []float64) stat {
	n := float64(len(xs))
	if n == 0 {
		return stat{}
	}
	var sum float64
	for _, x := range xs {
		sum += x
	}
	mean := sum / n
	if n < 2 {
		return stat{Mean: mean}
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return stat{Mean: mean, SE: math.Sqrt(ss/(n-1)) / math.Sqrt(n)}
}

// histogram counts latencies in 1 ms bins up to 30 s (longer ones in the
// last bin), so that many runs' latencies pool cheaply into quantiles.
type histogram struct {
	bins []int64
	n    int64
}

const histBins = 30_000

func newHistogram() *histogram { return &histogram{bins: make([]int64, histBins)} }

// add counts one latency.
func (h *histogram) add(d time.Duration) {
	h.bins[min(max(int(d/time.Millisecond), 0), histBins-1)]++
	h.n++
}

// merge adds o's counts to h.
func (h *histogram) merge(o *histogram) {
	for i, c := range o.bins {
		h.bins[i] += c
	}
	h.n += o.n
}

// quantile returns the upper edge of the bin that holds the q-quantile
// (0 < q ≤ 1), or 0 when h is empty.
func (h *histogram) quantile(q float64) time.Duration {
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
