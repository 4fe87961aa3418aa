package limitalg

import "time"

// Gradient2Config configures a [Gradient2]. Zero fields mean Netflix's
// Gradient2Limit defaults.
type Gradient2Config struct {
	Bounds // zero fields: initial 20, min 20, max 200
	// Smoothing weighs a new limit against the old one, in (0, 1]. Zero
	// means 0.2.
	Smoothing float64
	// LongWindow is the number of samples the long-term latency average
	// spans (an exponential average with factor 2/(LongWindow+1), after a
	// plain mean of the first 10 samples). Zero means 600.
	LongWindow int
	// Tolerance is how much the latency may exceed its long-term average
	// before the limit falls, ≥ 1. Zero means 1.5.
	Tolerance float64
	// QueueSize is what the limit grows by, at most, on each sample when
	// latency is within tolerance. Zero means 4.
	QueueSize int
}

// Gradient2 is the limit of Netflix's Gradient2Limit. It compares each
// sample's latency (the short-term latency) with a long-term exponential
// average of latencies, the gradient
//
//	g = clamp(Tolerance × long / short, 0.5, 1)
//
// and moves the limit towards limit × g + QueueSize with weight Smoothing.
// Latency within tolerance of the average (g = 1) lets the limit grow by up
// to QueueSize a sample; latency rising above it shrinks the limit, by half
// at most per full step. The limit does not move while less than half of it
// was in flight (the caller is not using it). At the steepest gradient the
// limit tends to 2 × QueueSize (limit = 0.5·limit + QueueSize), so a Min
// below that is not reached. When the average is more than
// twice the sample, as after a long overload ends, the average is cut by 5%
// a sample so the limit recovers without waiting for the average to decay.
//
// Departure from Netflix, which samples a drop's latency like any other: a
// drop is taken as the steepest gradient, 0.5, whatever its latency and
// however much was in flight, and its latency is not added to the average.
// So a drop lowers the limit (by about a tenth at the default smoothing,
// like AIMD's 0.9) even when it came back fast, as an overload answer
// does, and a timeout's artificial latency does not raise the baseline.
type Gradient2 struct {
	b         Bounds
	smoothing float64
	tolerance float64
	queue     float64
	long      expAvg
	limit     float64
}

// NewGradient2 returns a Gradient2 at c's initial limit.
func NewGradient2(c Gradient2Config) *Gradient2 {
	b := c.Bounds.withDefaults()
	g := &Gradient2{b: b, smoothing: c.Smoothing, tolerance: c.Tolerance, queue: float64(c.QueueSize), limit: float64(b.Initial)}
	if g.smoothing == 0 {
		g.smoothing = 0.2
	}
	if g.tolerance == 0 {
		g.tolerance = 1.5
	}
	if g.queue == 0 {
		g.queue = 4
	}
	w := c.LongWindow
	if w == 0 {
		w = 600
	}
	g.long = expAvg{factor: 2 / float64(w+1), warmup: 10}
	return g
}

// Update implements [Algorithm].
func (g *Gradient2) Update(rtt time.Duration, inflight int, dropped bool) int {
	gradient := 0.5
	if !dropped {
		short := positive(rtt)
		long := g.long.add(short)
		if long/short > 2 {
			g.long.value *= 0.95
		}
		if float64(inflight) < g.limit/2 {
			return int(g.limit)
		}
		gradient = max(0.5, min(1, g.tolerance*long/short))
	}
	next := g.limit*gradient + g.queue
	next = g.limit*(1-g.smoothing) + next*g.smoothing
	g.limit = g.b.clamp(next)
	return int(g.limit)
}

// Limit implements [Algorithm].
func (g *Gradient2) Limit() int { return int(g.limit) }

// LongRTT returns the long-term latency average, zero before the first
// sample.
func (g *Gradient2) LongRTT() time.Duration { return time.Duration(g.long.value) }

// expAvg is Netflix's ExpAvgMeasurement: the mean of the first warmup
// samples, then an exponential average.
type expAvg struct {
	factor float64
	warmup int
	count  int
	sum    float64
	value  float64
}

func (e *expAvg) add(x float64) float64 {
	if e.count < e.warmup {
		e.count++
		e.sum += x
		e.value = e.sum / float64(e.count)
	} else {
		e.value = e.value*(1-e.factor) + x*e.factor
	}
	return e.value
}
