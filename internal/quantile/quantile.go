// Package quantile estimates a quantile of recent durations in bounded
// memory, with no goroutine: a ring of the last N samples, from which a
// scratch copy selects the rank in linear time, at most once every N/16
// new samples, when the estimate is asked for.
package quantile

import (
	"math"
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
		rank := int(math.Ceil(r.q*float64(n))) - 1
		r.est = selectNth(r.scratch, min(max(rank, 0), n-1))
		r.sorted, r.fresh = true, 0
	}
	return r.est, true
}

// selectNth returns the k-th smallest of s (0-based), reordering s: a
// quickselect with a median-of-three pivot, linear on average.
func selectNth(s []time.Duration, k int) time.Duration {
	lo, hi := 0, len(s)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		if s[mid] < s[lo] {
			s[mid], s[lo] = s[lo], s[mid]
		}
		if s[hi] < s[lo] {
			s[hi], s[lo] = s[lo], s[hi]
		}
		if s[hi] < s[mid] {
			s[hi], s[mid] = s[mid], s[hi]
		}
		pivot := s[mid]
		i, j := lo, hi
		for i <= j {
			for s[i] < pivot {
				i++
			}
			for s[j] > pivot {
				j--
			}
			if i <= j {
				s[i], s[j] = s[j], s[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return s[k]
		}
	}
	return s[k]
}
