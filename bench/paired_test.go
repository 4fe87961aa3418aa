package bench

import (
	"slices"
	"testing"
	"time"
)

// pairedRun is one subject of a paired benchmark: lib names it in the
// reported metrics, call makes one call.
type pairedRun struct {
	lib  string
	call func()
}

// paired times each run's call in blocks of size calls, one block per run
// in turn, the order rotated every round, for as long as b.Loop lasts. It
// reports each run's median time per call as "<lib>-ns/call" and returns
// the medians by lib.
//
// Sub-benchmarks run one after the other, so each meets the heap, the timer
// heap and the load its predecessor left behind, and their means take in
// every stall; blocks microseconds apart meet the same ones, and a median
// ignores the blocks a busy machine or a collection stalled. A block is
// long enough that the two clock reads around it cost a few per mille of
// it. ns/op is one round: a block of every run.
func paired(b *testing.B, size int, runs ...pairedRun) map[string]float64 {
	b.Helper()
	times := make([][]time.Duration, len(runs))
	b.ReportAllocs()
	for n := 0; b.Loop(); n++ {
		for k := range runs {
			i := (n + k) % len(runs)
			start := time.Now()
			for range size {
				runs[i].call()
			}
			times[i] = append(times[i], time.Since(start))
		}
	}
	med := make(map[string]float64, len(runs))
	for i, r := range runs {
		slices.Sort(times[i])
		med[r.lib] = float64(times[i][len(times[i])/2]) / float64(size)
		b.ReportMetric(med[r.lib], r.lib+"-ns/call")
	}
	return med
}
