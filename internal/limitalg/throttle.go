package limitalg

import "time"

// RejectProbability is the Google SRE book's client-side rejection
// probability, capped:
//
//	min(maxRate, max(0, (requests − k·accepts) / (requests + 1)))
//
// and 0 while requests < minRequests.
func RejectProbability(requests, accepts int64, k float64, minRequests int64, maxRate float64) float64 {
	if requests < minRequests {
		return 0
	}
	p := (float64(requests) - k*float64(accepts)) / float64(requests+1)
	return min(maxRate, max(0, p))
}

// Window counts requests and accepts over a sliding window kept in buckets:
// Window covers the current bucket and the n−1 before it, so it spans
// between (n−1)·width and n·width of the past. Counting is O(1), amortized
// over the buckets that expire. The zero value is not usable; make one with
// [NewWindow].
type Window struct {
	width    time.Duration
	buckets  []counts
	cur      int64 // the index (now/width) of the latest bucket written or read
	requests int64 // totals over the buckets
	accepts  int64
}

type counts struct{ requests, accepts int64 }

// NewWindow returns an empty window of n buckets of width each. It panics
// if n < 1 or width ≤ 0.
func NewWindow(width time.Duration, n int) *Window {
	if n < 1 || width <= 0 {
		panic("limitalg: NewWindow needs n ≥ 1 buckets of a positive width")
	}
	return &Window{width: width, buckets: make([]counts, n)}
}

// advance moves the window to now (a time since the caller's epoch),
// emptying the buckets that fell out of it. A now earlier than one already
// seen leaves the window where it is.
func (w *Window) advance(now time.Duration) {
	idx := int64(max(now, 0) / w.width)
	if idx <= w.cur {
		return
	}
	n := int64(len(w.buckets))
	if idx-w.cur >= n {
		clear(w.buckets)
		w.requests, w.accepts = 0, 0
	} else {
		for i := w.cur + 1; i <= idx; i++ {
			b := &w.buckets[i%n]
			w.requests -= b.requests
			w.accepts -= b.accepts
			*b = counts{}
		}
	}
	w.cur = idx
}

// Add counts one request at now, and an accept too when accepted is true.
// A now earlier than one already seen is counted in the bucket of now, or
// not at all when that bucket has left the window (callers that read the
// clock before taking their lock may add slightly out of order). A
// negative now is taken as 0.
func (w *Window) Add(now time.Duration, accepted bool) {
	w.advance(now)
	idx := int64(max(now, 0) / w.width)
	n := int64(len(w.buckets))
	if idx <= w.cur-n {
		return
	}
	b := &w.buckets[idx%n]
	b.requests++
	w.requests++
	if accepted {
		b.accepts++
		w.accepts++
	}
}

// Counts returns the requests and accepts in the window at now.
func (w *Window) Counts(now time.Duration) (requests, accepts int64) {
	w.advance(now)
	return w.requests, w.accepts
}

// ThrottleConfig configures a [Throttle]. Unlike adaptive's config, zero
// fields are not defaults: the caller passes every value.
type ThrottleConfig struct {
	K             float64       // accepts are multiplied by K
	MinRequests   int64         // below this many requests in the window, nothing is rejected
	MaxRejectRate float64       // the rejection probability's cap
	BucketWidth   time.Duration // the window's bucket width
	Buckets       int           // the window's number of buckets
}

// Throttle is the SRE book's client-side throttle: a [Window] of the
// client's requests and of those the backend accepted, and the decision
// made from it.
type Throttle struct {
	w *Window
	c ThrottleConfig
}

// NewThrottle returns a throttle with an empty window. It panics as
// [NewWindow] does.
func NewThrottle(c ThrottleConfig) *Throttle {
	return &Throttle{w: NewWindow(c.BucketWidth, c.Buckets), c: c}
}

// Probability returns the rejection probability at now.
func (t *Throttle) Probability(now time.Duration) float64 {
	r, a := t.w.Counts(now)
	return RejectProbability(r, a, t.c.K, t.c.MinRequests, t.c.MaxRejectRate)
}

// Reject decides a request at now with u, a uniform random number in
// [0, 1): it is rejected when u < Probability(now). A rejected request is
// counted at once as a request that was not accepted, so that the window
// keeps moving and the client keeps probing; an admitted one is counted by
// [Throttle.Record] when it ends. Reject is Probability followed, for a
// rejection, by Record(now, false): adaptive.Throttler takes those two
// steps itself, so that it draws u only when the probability is above
// zero.
func (t *Throttle) Reject(now time.Duration, u float64) bool {
	if u >= t.Probability(now) {
		return false
	}
	t.w.Add(now, false)
	return true
}

// Record counts an admitted request that ended at now; accepted is false
// when the backend answered with an overload. A now earlier than one
// already seen is counted as [Window.Add] says.
func (t *Throttle) Record(now time.Duration, accepted bool) {
	t.w.Add(now, accepted)
}

// Counts returns the requests and accepts in the window at now.
func (t *Throttle) Counts(now time.Duration) (requests, accepts int64) {
	return t.w.Counts(now)
}
