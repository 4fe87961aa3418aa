package main

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/magicmagnets/resilience/internal/sim"
)

// runMeasures are the figures of one run.
type runMeasures struct {
	Warm      float64 // goodput in the warm-up at Base load (requests a second), the pre-spike level
	Hold      float64 // goodput at the Hold load
	Spike     float64 // goodput during the spike
	Wasted    float64 // share of the requests the server finished whose client no longer waited
	PerAccept float64 // attempts that reached the server per success, during the spike
	Limit     float64 // the mean concurrency limit at the Hold load (0 without one)
	Recovery  time.Duration
	Recovered bool
}

// measure computes the figures of a run of sc.
func measure(sc scenario, secs []second) runMeasures {
	sec := func(d time.Duration) int { return int(d / time.Second) }
	// The first seconds of the warm-up are left out: the queue starts empty.
	warmFrom := min(5, sec(sc.Warmup)/2)
	m := runMeasures{
		Warm:  meanGoodput(secs, warmFrom, sec(sc.Warmup)),
		Hold:  meanGoodput(secs, sec(sc.holdAt()), sec(sc.spikeAt())),
		Spike: meanGoodput(secs, sec(sc.spikeAt()), sec(sc.recoverAt())),
	}
	var served, wasted, offered, succeeded int
	for _, s := range secs[sec(sc.holdAt()):sec(sc.spikeAt())] {
		m.Limit += s.Limit / float64(sec(sc.spikeAt())-sec(sc.holdAt()))
	}
	for i, s := range secs {
		served += s.Served
		wasted += s.Wasted
		if i >= sec(sc.spikeAt()) && i < sec(sc.recoverAt()) {
			offered += s.Offered
			succeeded += s.Succeeded
		}
	}
	if served > 0 {
		m.Wasted = float64(wasted) / float64(served)
	}
	if succeeded > 0 {
		m.PerAccept = float64(offered) / float64(succeeded)
	}
	m.Recovery, m.Recovered = recovery(sc, secs, m.Warm)
	return m
}

// meanGoodput is the mean number of successes a second over [from, to).
func meanGoodput(secs []second, from, to int) float64 {
	if to <= from {
		return 0
	}
	n := 0
	for _, s := range secs[from:to] {
		n += s.Succeeded
	}
	return float64(n) / float64(to-from)
}

// recoveryWindow is how many seconds of goodput recovery averages over:
// one second at half capacity holds a few percent of Poisson noise, which a
// 10% threshold would mistake for a relapse now and then.
const recoveryWindow = 3

// recovery returns how long after the spike's end goodput is back within
// 10% of the pre-spike level (warm) for good: the start of the last stretch,
// lasting to the end of the run, in which the mean goodput of every
// recoveryWindow consecutive seconds is at least 90% of warm. ok is false
// when the last such window is below it.
func recovery(sc scenario, secs []second, warm float64) (d time.Duration, ok bool) {
	from, last := int(sc.recoverAt()/time.Second), sc.seconds()-recoveryWindow
	start := last + 1
	for s := last; s >= from && meanGoodput(secs, s, s+recoveryWindow) >= 0.9*warm; s-- {
		start = s
	}
	if start > last {
		return 0, false
	}
	return time.Duration(start-from) * time.Second, true
}

// variantResult is what the study reports for one variant over its runs.
type variantResult struct {
	Variant                           string
	First                             runResult // the first run, for the charts and the CSV
	Warm, Hold, Spike, Wasted, Accept sim.Stat
	Limit                             sim.Stat
	Recovery                          sim.Stat // over the runs that recovered
	Recovered, Runs                   int
	Latency                           *sim.Histogram // every run's, pooled
}

// runSource is the random source of run i, the same for every variant.
func runSource(seed uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 1<<40|uint64(i)))
}

// sweep runs every variant runs times, run i of every variant from
// runSource(seed, i), at most two variants at a time, and returns when all
// are done.
func sweep(sc scenario, vs []variant, runs int, seed uint64) []variantResult {
	out := make([]variantResult, len(vs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for vi, v := range vs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			out[vi] = runVariant(sc, v, runs, seed)
		})
	}
	wg.Wait()
	return out
}

// runVariant runs v runs times and summarizes the runs.
func runVariant(sc scenario, v variant, runs int, seed uint64) variantResult {
	res := variantResult{Variant: v.name, Runs: runs, Latency: sim.NewHistogram()}
	var warm, hold, spike, wasted, accept, limit, rec []float64
	for i := range runs {
		rr := simulate(sc, v, runSource(seed, i))
		if i == 0 {
			res.First = rr
		}
		res.Latency.Merge(rr.Latency)
		m := measure(sc, rr.Seconds)
		warm, hold, spike = append(warm, m.Warm), append(hold, m.Hold), append(spike, m.Spike)
		wasted, accept, limit = append(wasted, m.Wasted), append(accept, m.PerAccept), append(limit, m.Limit)
		if m.Recovered {
			rec = append(rec, m.Recovery.Seconds())
			res.Recovered++
		}
	}
	res.Warm, res.Hold, res.Spike = sim.Summarize(warm), sim.Summarize(hold), sim.Summarize(spike)
	res.Wasted, res.Accept, res.Recovery, res.Limit = sim.Summarize(wasted), sim.Summarize(accept), sim.Summarize(rec), sim.Summarize(limit)
	return res
}
