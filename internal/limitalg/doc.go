// Package limitalg holds the decision code of package adaptive as pure state
// machines: the concurrency-limit algorithms (AIMD, Vegas, Gradient2), the
// sample window that feeds them, and the client-side throttle's sliding
// window and rejection probability.
//
// Nothing here reads the clock, draws randomness it was not given, takes a
// lock or starts a goroutine. Time comes in as arguments: a latency is a
// time.Duration, an instant is a time.Duration since an epoch the caller
// chooses (adaptive uses time.Since of its construction; a simulation uses
// its own clock). So adaptive wraps these types with a mutex and time.Now,
// and a discrete-event simulation runs the very same decisions in simulated
// time.
//
// None of the types is safe for concurrent use.
//
// The limit algorithms follow Netflix's concurrency-limits library
// (github.com/Netflix/concurrency-limits, concurrency-limits-core,
// com.netflix.concurrency.limits.limit): AIMDLimit, VegasLimit and
// Gradient2Limit, with their published defaults; each type's doc says where
// it departs from them. SampleWindow feeds an algorithm once per window of
// samples, as Netflix's WindowedLimit does, or with every sample. The throttle is the client-side throttling of the
// Google SRE book, chapter 21 ("Handling Overload").
package limitalg

import "time"

// Algorithm is a concurrency-limit algorithm: it is told about every sampled
// call and answers the new limit.
type Algorithm interface {
	// Update records one finished call: rtt is how long it took, inflight
	// how many calls were in flight when it started (itself included), and
	// dropped whether it ended in a drop (a timeout or an overload answer).
	// It returns the limit after the sample.
	Update(rtt time.Duration, inflight int, dropped bool) int
	// Limit returns the current limit.
	Limit() int
}

// Bounds are the limits every algorithm keeps to: it starts at Initial and
// never leaves [Min, Max]. Zero fields mean 20, 20 and 200 (see the
// Default constants); an Initial outside [Min, Max] is moved into it. Min
// must be at least 1 and at most Max: adaptive checks that.
type Bounds struct {
	Initial, Min, Max int
}

// The defaults of Netflix's Gradient2Limit and AIMDLimit builders, which the
// adaptive package takes for every algorithm (Netflix's VegasLimit starts at
// 20 too, but allows 1 to 1000).
const (
	DefaultInitial = 20
	DefaultMin     = 20
	DefaultMax     = 200
)

// withDefaults returns b with zero fields replaced by the defaults and Initial
// moved into [Min, Max].
func (b Bounds) withDefaults() Bounds {
	if b.Min == 0 {
		b.Min = DefaultMin
	}
	if b.Max == 0 {
		b.Max = DefaultMax
	}
	if b.Initial == 0 {
		b.Initial = DefaultInitial
	}
	b.Initial = min(max(b.Initial, b.Min), b.Max)
	return b
}

// clamp returns x within [b.Min, b.Max].
func (b Bounds) clamp(x float64) float64 {
	return min(max(x, float64(b.Min)), float64(b.Max))
}

// positive returns rtt, or 1ns when rtt is not positive: a call measured
// with a clock that did not move (a synctest bubble, a coarse clock) took
// no time, and the algorithms divide by it.
func positive(rtt time.Duration) float64 {
	if rtt <= 0 {
		return 1
	}
	return float64(rtt)
}
