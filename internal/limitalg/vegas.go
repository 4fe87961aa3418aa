package limitalg

import (
	"math"
	"math/rand/v2"
	"time"
)

// VegasConfig configures a [Vegas]. Zero fields mean Netflix's VegasLimit
// defaults, except the bounds (see [Bounds]).
type VegasConfig struct {
	Bounds // zero fields: initial 20, min 20, max 200
	// Smoothing weighs a new limit against the old one, in (0, 1]. Zero
	// means 1: no smoothing.
	Smoothing float64
	// ProbeMultiplier sets how often the no-load latency is measured again:
	// after about ProbeMultiplier × limit samples (times a jitter in
	// [0.5, 1)). Zero means 30.
	ProbeMultiplier int
	// Rand returns uniform numbers in [0, 1) for the probe's jitter. Nil
	// means math/rand/v2's Float64.
	Rand func() float64
}

// Vegas is the TCP Vegas-style limit of Netflix's VegasLimit: it keeps the
// lowest latency seen as the no-load latency and estimates the queue as
// limit × (1 − noLoad/rtt). With log = max(1, ⌊log10(limit)⌋) it then adds
// 6·log when the queue is at most log, adds log when the queue is below
// 3·log, takes log away when it is above 6·log, and otherwise holds. A drop
// takes log away. A success while less than half the limit was in flight
// changes nothing. Every ProbeMultiplier × limit samples or so the no-load
// latency is replaced by the current sample, so that it follows a
// dependency that got slower for good.
//
// Departures from Netflix: the limit stays within Bounds (Netflix allows 1
// to 1000), and a latency of zero is taken as 1ns rather than rejected.
type Vegas struct {
	b          Bounds
	smoothing  float64
	multiplier float64
	rand       func() float64

	limit  float64
	noLoad float64 // the no-load latency in ns; 0 before the first sample
	probes int     // samples since the last probe
	jitter float64 // in [0.5, 1), drawn at each probe
}

// NewVegas returns a Vegas at c's initial limit.
func NewVegas(c VegasConfig) *Vegas {
	b := c.Bounds.withDefaults()
	v := &Vegas{b: b, smoothing: c.Smoothing, multiplier: float64(c.ProbeMultiplier), rand: c.Rand, limit: float64(b.Initial)}
	if v.smoothing == 0 {
		v.smoothing = 1
	}
	if v.multiplier == 0 {
		v.multiplier = 30
	}
	if v.rand == nil {
		v.rand = rand.Float64
	}
	v.jitter = 0.5 + v.rand()/2
	return v
}

// log10 is Netflix's Log10RootIntFunction: ⌊log10(x)⌋, but at least 1.
func log10(x int) int {
	if x < 10 {
		return 1
	}
	return int(math.Log10(float64(x)))
}

// Update implements [Algorithm].
func (v *Vegas) Update(rtt time.Duration, inflight int, dropped bool) int {
	r := positive(rtt)
	v.probes++
	if v.jitter*v.multiplier*v.limit <= float64(v.probes) {
		v.jitter = 0.5 + v.rand()/2
		v.probes = 0
		v.noLoad = r
		return int(v.limit)
	}
	if v.noLoad == 0 || r < v.noLoad {
		v.noLoad = r
		return int(v.limit)
	}
	l := int(v.limit)
	log := float64(log10(l))
	next := v.limit
	switch queue := math.Ceil(v.limit * (1 - v.noLoad/r)); {
	case dropped:
		next -= log
	case inflight*2 < l:
		return l
	case queue <= log:
		next += 6 * log
	case queue < 3*log:
		next += log
	case queue > 6*log:
		next -= log
	default:
		return l
	}
	next = v.b.clamp(next)
	v.limit = (1-v.smoothing)*v.limit + v.smoothing*next
	return int(v.limit)
}

// Limit implements [Algorithm].
func (v *Vegas) Limit() int { return int(v.limit) }
