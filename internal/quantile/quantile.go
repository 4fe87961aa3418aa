// Package quantile estimates a quantile of recent durations in bounded
// memory, with no goroutine: a ring of the last N samples, sorted into a
// scratch copy at most once every N/16 new samples, when the estimate is
// asked for.
package quantile

import (
	"math"
	"slices"
	"sync"
	"time"
)

// Ring keeps the last Size durations and answers their Q-quantile. It is
// safe for concurrent use; its zero value is not usable (see [New]).
type Ring struct {
	q    float64
	need int // samples needed before an estimate

	mu      sync.Mutex
	samples []time.Duration // the ring; len grows to cap, then wraps
	next    int             // where the next sample goes once full
	fresh   int             // samples added since the last sort
	est     time.Duration   // the last estimate, valid when sorted
	sorted  bool
	scratch []time.Duration
}

// New returns a ring of size samples estimating the q-quantile, q in
// (0, 1). It answers once it holds max(10, ⌈1/(1−q)⌉) samples (20 for
// 0.95, 100 for 0.99), capped at size: fewer say nothing about the tail.
func New(q float64, size int) *Ring {
	need := max(10, int(math.Ceil(1/(1-q)-1e-9)))
	return &Ring{
		q:       q,
		need:    min(need, size),
		samples: make([]time.Duration, 0, size),
		scratch: make([]time.Duration, 0, size),
	}
}

// Add records one sample, in constant time.
func (r *Ring) Add(d time.Duration) {
	r.mu.Lock()
	if len(r.samples) < cap(r.samples) {
		r.samples = append(r.samples, d)
	} else {
		r.samples[r.next] = d
		r.next = (r.next + 1) % len(r.samples)
	}
	r.fresh++
	r.mu.Unlock()
}

// Quantile returns the q-quantile of the samples held (the nearest-rank
// one: the smallest sample at or above which a share q of them lie), and
// false until enough samples are held. The estimate is recomputed when at
// least a sixteenth of the ring is new since the last one.
func (r *Ring) Quantile() (time.Duration, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.samples)
	if n < r.need {
		return 0, false
	}
	if !r.sorted || r.fresh >= max(1, cap(r.samples)/16) {
		r.scratch = append(r.scratch[:0], r.samples...)
		slices.Sort(r.scratch)
		rank := int(math.Ceil(r.q*float64(n))) - 1
		r.est = r.scratch[min(max(rank, 0), n-1)]
		r.sorted, r.fresh = true, 0
	}
	return r.est, true
}
