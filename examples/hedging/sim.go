package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/magicmagnets/resilience/internal/quantile"
)

// fanout is how many sub-requests a user request of part 1 sends; it waits
// for the slowest.
const fanout = 1000

// model is the latency of one server's answer, in milliseconds: a mixture
// of a fast mode, a queueing mode and a rare stall.
type model struct {
	FastMedian, FastSigma float64 // lognormal: most answers, 1–5 ms
	QueueProb             float64 // a busy server: QueueBase plus an exponential of mean QueueMean
	QueueBase, QueueMean  float64
	StallProb             float64 // a stalled server (a collection, a compaction): uniform in [StallMin, StallMax]
	StallMin, StallMax    float64
}

// paperModel is chosen so that the simulation lands near the paper's
// figures (see docs/hedging.md for the arithmetic): a 1,000-way fan-out
// waits at its 99.9th percentile for an answer slower than a server's
// 1-in-a-million one, which the stalls put near 1.8 s; 1.9% of answers
// come from a busy server, 10 ms and more, so hedging after 10 ms sends
// about 2% more; and the busy mode's 20 ms mean puts the hedged 99.9th
// percentile near 74 ms.
func paperModel() model {
	return model{
		FastMedian: 2, FastSigma: 0.4,
		QueueProb: 0.019, QueueBase: 10, QueueMean: 20,
		StallProb: 1e-5, StallMin: 200, StallMax: 2000,
	}
}

// draw returns one answer's latency in milliseconds.
func (m model) draw(rng *rand.Rand) float64 {
	u := rng.Float64()
	switch {
	case u < m.StallProb:
		return m.StallMin + rng.Float64()*(m.StallMax-m.StallMin)
	case u < m.StallProb+m.QueueProb:
		return m.QueueBase + rng.ExpFloat64()*m.QueueMean
	}
	return m.FastMedian * math.Exp(m.FastSigma*rng.NormFloat64())
}

// variant is one way of sending the sub-requests: no hedge, a hedge after
// a fixed Delay, or a hedge at the Quantile of recent latencies (never
// below MinDelay; Delay until enough have been seen), as hedge.Config
// means them. MaxHedges is 1.
type variant struct {
	Name     string
	Hedge    bool
	Delay    float64 // ms
	Quantile float64
	MinDelay float64 // ms
}

func simVariants() []variant {
	return []variant{
		{Name: "no hedging"},
		{Name: "hedge after 10 ms", Hedge: true, Delay: 10},
		{Name: "hedge at p95", Hedge: true, Quantile: 0.95, Delay: 10, MinDelay: 1},
		{Name: "hedge at p99", Hedge: true, Quantile: 0.99, Delay: 10, MinDelay: 1},
	}
}

// result is one variant's outcome: percentiles of the latency the caller
// sees, and the load sent.
type result struct {
	Name           string
	Calls          int     // user requests (part 1) or HTTP requests (part 2)
	P50, P99, P999 float64 // ms
	Sent           int     // requests the servers received
	Base           int     // requests without hedging
	NewConns       int     // part 2: connections the server accepted
	PerSecond      float64 // part 2: calls completed per second
}

// Extra returns the share of requests sent beyond the unhedged count.
func (r result) Extra() float64 { return float64(r.Sent-r.Base) / float64(r.Base) }

// simulate runs users user requests of a fan-out over servers of model m.
// The first attempts come from one random stream and the hedges from
// another, so every variant sees the same first attempts. A sub-request's
// latency is its first attempt's, or, when that exceeds the delay, the
// delay plus its hedge's if that is sooner: the decision hedge.Policy makes
// with MaxHedges 1. With a Quantile, the delay comes from the estimator
// hedge.Policy uses (internal/quantile, the last 1,000 latencies), fed with
// each sub-request's latency as the policy feeds it with each call's.
func simulate(m model, v variant, users, fan int, seed uint64) result {
	first := rand.New(rand.NewPCG(seed, 1))
	second := rand.New(rand.NewPCG(seed, 2))
	var ring *quantile.Ring
	if v.Quantile > 0 {
		ring = quantile.New(v.Quantile, 1000)
	}
	lat := make([]float64, users)
	sent := 0
	for u := range users {
		slowest := 0.0
		for range fan {
			l := m.draw(first)
			sent++
			if v.Hedge {
				d := v.Delay
				if ring != nil {
					if q, ok := ring.Quantile(); ok {
						d = max(float64(q)/float64(time.Millisecond), v.MinDelay)
					}
				}
				if l > d {
					sent++
					l = min(l, d+m.draw(second))
				}
				if ring != nil {
					ring.Add(time.Duration(l * float64(time.Millisecond)))
				}
			}
			slowest = max(slowest, l)
		}
		lat[u] = slowest
	}
	r := result{Name: v.Name, Calls: users, Sent: sent, Base: users * fan}
	r.P50, r.P99, r.P999 = percentiles(lat)
	return r
}

// percentiles returns the nearest-rank 50th, 99th and 99.9th percentiles
// of xs, which it sorts.
func percentiles(xs []float64) (p50, p99, p999 float64) {
	slices.Sort(xs)
	at := func(q float64) float64 {
		i := int(math.Ceil(q*float64(len(xs)))) - 1
		return xs[min(max(i, 0), len(xs)-1)]
	}
	return at(0.5), at(0.99), at(0.999)
}
