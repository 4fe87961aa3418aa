package main

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/internal/sim"
)

// Part 1 reproduces the simulation of Marc Brooker's "Exponential Backoff
// And Jitter" (AWS Architecture Blog, 2015): N clients start together, and
// each must write one shared row once under optimistic concurrency. A client
// reads the row's version and writes with it; the write wins only if the
// version is still current, and then bumps it. A losing client waits its
// backoff and starts again from the read. The server has no capacity limit
// and takes no time; each one-way hop takes |Normal(10, 2)| time units.
//
// One time unit of the study is one millisecond here, so the study's base 5
// and cap 2000 are 5ms and 2s, and the delays come straight from the backoff
// package. The study's simulator sleeps base·2^attempt with its attempt
// counter at 1 after the first failure, so its first sleep is 10: its capped
// exponential strategies are Exponential(10, 2, 2000) here, while its
// decorrelated jitter starts from the base itself, 5.

// unit is one time unit of the study.
const unit = time.Millisecond

// strategy is one backoff strategy the study compares.
type strategy struct {
	name    string
	backoff backoff.Backoff
	dash    string // SVG stroke-dasharray of its chart line; empty is solid
}

// strategies returns the study's five strategies, built with the backoff
// package (the study's base 5 and cap 2000, doubling), and a sixth that is
// not in the study: decorrelated jitter drawn inside the cap instead of
// clamped to it. Its chart line is dashed to set it apart from plain
// decorrelated jitter.
func strategies() []strategy {
	exp := backoff.Exponential(2*studyBase, 2, studyCap) // first sleep 2·base, as the study's
	dec := backoff.Exponential(studyBase, 2, studyCap)   // decorrelated jitter grows from base
	return []strategy{
		{name: "no backoff", backoff: backoff.Constant(0)},
		{name: "exponential", backoff: exp},
		{name: "full jitter", backoff: exp.WithJitter(backoff.Full)},
		{name: "equal jitter", backoff: exp.WithJitter(backoff.Equal)},
		{name: "decorrelated jitter", backoff: dec.WithJitter(backoff.Decorrelated)},
		{name: "decorrelated-within jitter", backoff: dec.WithJitter(backoff.DecorrelatedWithin), dash: "7 4"},
	}
}

// The study's base and cap.
const (
	studyBase = 5 * unit
	studyCap  = 2000 * unit
)

// occKind is what happens in an event of the optimistic-concurrency model.
type occKind uint8

const (
	readArrives  occKind = iota // a read reaches the server
	readReturns                 // its reply, with the version, reaches the client
	writeArrives                // a write, with the version read, reaches the server
	writeReturns                // its reply reaches the client
)

type occEvent struct {
	kind    occKind
	client  int
	version int
	ok      bool
}

// occClient is what one client remembers between attempts.
type occClient struct {
	failures int           // failed writes so far: the backoff attempt number
	prev     time.Duration // the last delay, for decorrelated jitter
}

// occRun simulates n clients using strategy b with randomness from r and
// returns the total number of writes and the time the last client finished.
func occRun(n int, b backoff.Backoff, r *rand.Rand) (calls int, last time.Duration) {
	b = b.WithRand(r)
	hop := func() time.Duration {
		return time.Duration(math.Abs(10+2*r.NormFloat64()) * float64(unit))
	}
	var q sim.Queue[occEvent]
	clients := make([]occClient, n)
	for i := range clients {
		q.After(hop(), occEvent{kind: readArrives, client: i})
	}
	version, done := 0, 0
	for done < n {
		ev, ok := q.Next()
		if !ok {
			panic("retrystorm: part 1 ran out of events with clients unfinished")
		}
		switch ev.kind {
		case readArrives:
			q.After(hop(), occEvent{kind: readReturns, client: ev.client, version: version})
		case readReturns:
			q.After(hop(), occEvent{kind: writeArrives, client: ev.client, version: ev.version})
		case writeArrives:
			calls++
			won := ev.version == version
			if won {
				version++
			}
			q.After(hop(), occEvent{kind: writeReturns, client: ev.client, ok: won})
		case writeReturns:
			if ev.ok {
				done++
				last = q.Now()
				continue
			}
			c := &clients[ev.client]
			c.failures++
			c.prev = b.Delay(c.failures, c.prev)
			q.After(c.prev+hop(), occEvent{kind: readArrives, client: ev.client})
		}
	}
	return calls, last
}

// occPoint is the outcome of many runs at one N for one strategy.
type occPoint struct {
	Strategy string
	N, Runs  int
	Calls    sim.Stat // writes per run
	Time     sim.Stat // completion time of the last client, in time units
}

// occSweep runs every strategy at every N in ns, runs times each. Run i at
// N n draws from a source seeded by (seed, n, i), the same for every
// strategy, so the result depends on seed alone. The strategies run in
// parallel; occSweep returns when all are done.
func occSweep(ns []int, runs int, seed uint64) [][]occPoint {
	strats := strategies()
	out := make([][]occPoint, len(strats))
	var wg sync.WaitGroup
	for si, s := range strats {
		wg.Go(func() {
			for _, n := range ns {
				out[si] = append(out[si], occPoints(s, n, runs, seed))
			}
		})
	}
	wg.Wait()
	return out
}

// occPoints runs one strategy at one N.
func occPoints(s strategy, n, runs int, seed uint64) occPoint {
	calls := make([]float64, runs)
	times := make([]float64, runs)
	for i := range runs {
		r := rand.New(rand.NewPCG(seed, uint64(n)<<32|uint64(i)))
		c, t := occRun(n, s.backoff, r)
		calls[i] = float64(c)
		times[i] = float64(t) / float64(unit)
	}
	return occPoint{Strategy: s.name, N: n, Runs: runs, Calls: sim.Summarize(calls), Time: sim.Summarize(times)}
}
