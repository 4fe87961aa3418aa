package main

import "math"

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
