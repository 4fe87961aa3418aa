package main

import "time"

// scenario is the setting of the simulation: the server, the clients and
// the load profile.
//
// The server has Workers workers and one FIFO queue without a bound. A
// request's service time is exponential (or, with Shape k > 1, Erlang-k:
// the mean of k exponentials, whose coefficient of variation is 1/√k), of
// mean Service × (1 + Slowdown × min(queued, Workers)/Workers), drawn when
// a worker starts it: the longer
// the queue, the slower the work, up to 1 + Slowdown times at Workers queued
// requests. The server cannot tell that a client stopped waiting: it serves
// an abandoned request all the same, unless a limiter in front of it turned
// the request away first.
//
// Clients send requests in an open loop (Poisson arrivals at the rate of the
// load profile, whether or not earlier requests have finished), spread
// evenly over Clients client instances, each with its own client-side
// policies. Each attempt times out after Timeout; a request makes up to
// Attempts attempts, with retry.Policy's default backoff between them.
//
// The load, as a multiple of the server's nominal capacity (Workers /
// Service requests a second), is Base for Warmup, rises linearly to Hold
// over Ramp, stays at Hold for HoldFor, jumps to Spike for SpikeFor, and
// falls back to Base for RecoverFor, when the run ends.
//
// With HoldWorkers > 0 the server has only that many workers during the
// hold (a lost instance, a noisy neighbour): jobs in service finish, and no
// new one starts while as many or more are busy.
type scenario struct {
	Clients     int
	Workers     int
	HoldWorkers int // workers during the hold; 0: Workers
	Service     time.Duration
	Slowdown    float64
	Shape       int // of the service time: 0 or 1 exponential, k > 1 Erlang-k
	Timeout     time.Duration
	Attempts    int

	Base, Hold, Spike float64 // × capacity
	Warmup, Ramp      time.Duration
	HoldFor, SpikeFor time.Duration
	RecoverFor        time.Duration
}

// defaultScenario is the scenario of docs/overload.md: a server of 50
// workers at 50 ms (1000 requests a second), ten client instances with a
// 1-second timeout and three attempts, 0.5× for 20 s, a ramp to 2× over
// 20 s, 2× for 30 s, a 30-second spike at 3×, and 60 s back at 0.5×.
func defaultScenario() scenario {
	return scenario{
		Clients: 10, Workers: 50, Service: 50 * time.Millisecond, Slowdown: 0.5,
		Timeout: time.Second, Attempts: 3,
		Base: 0.5, Hold: 2, Spike: 3,
		Warmup: 20 * time.Second, Ramp: 20 * time.Second,
		HoldFor: 30 * time.Second, SpikeFor: 30 * time.Second,
		RecoverFor: 60 * time.Second,
	}
}

// quickScenario is a shorter and smaller version of the default, for
// -quick and the tests: 20 workers, shorter phases.
func quickScenario() scenario {
	sc := defaultScenario()
	sc.Workers = 20
	sc.Warmup, sc.Ramp, sc.HoldFor, sc.SpikeFor, sc.RecoverFor = 10*time.Second, 5*time.Second, 10*time.Second, 10*time.Second, 30*time.Second
	return sc
}

// workers returns the server's workers at t.
func (sc scenario) workers(t time.Duration) int {
	if sc.HoldWorkers > 0 && t >= sc.holdAt() && t < sc.spikeAt() {
		return sc.HoldWorkers
	}
	return sc.Workers
}

// capacityScenario is sc with a steady load of 0.8× its nominal capacity
// for 110 s, during which the server loses half its workers for 30 s, from
// 40 s: 1.6× what is left. There is no ramp and no spike; the hold is the
// degraded stretch, and recovery is measured from its end.
func capacityScenario(sc scenario) scenario {
	sc.Base, sc.Hold, sc.Spike = 0.8, 0.8, 0.8
	sc.Warmup, sc.Ramp, sc.HoldFor, sc.SpikeFor, sc.RecoverFor = 40*time.Second, 0, 30*time.Second, 0, 40*time.Second
	sc.HoldWorkers = sc.Workers / 2
	return sc
}

// capacity is the server's nominal capacity in requests a second: every
// worker busy, no queue.
func (sc scenario) capacity() float64 {
	return float64(sc.Workers) / sc.Service.Seconds()
}

// The phases' boundaries.
func (sc scenario) holdAt() time.Duration    { return sc.Warmup + sc.Ramp }
func (sc scenario) spikeAt() time.Duration   { return sc.holdAt() + sc.HoldFor }
func (sc scenario) recoverAt() time.Duration { return sc.spikeAt() + sc.SpikeFor }
func (sc scenario) end() time.Duration       { return sc.recoverAt() + sc.RecoverFor }

// load returns the offered load at t as a multiple of capacity.
func (sc scenario) load(t time.Duration) float64 {
	switch {
	case t < sc.Warmup:
		return sc.Base
	case t < sc.holdAt():
		return sc.Base + (sc.Hold-sc.Base)*float64(t-sc.Warmup)/float64(sc.Ramp)
	case t < sc.spikeAt():
		return sc.Hold
	case t < sc.recoverAt():
		return sc.Spike
	}
	return sc.Base
}

// seconds is the number of whole seconds a run lasts.
func (sc scenario) seconds() int { return int(sc.end() / time.Second) }

// steadyScenario is sc with its spike load held long enough for the
// throttle's two-minute window to forget the healthy start: Spike load for
// 150 s (reported as the hold) and 60 s more (reported as the spike), then
// 10 s back at Base.
func steadyScenario(sc scenario) scenario {
	sc.Hold, sc.HoldFor, sc.SpikeFor, sc.RecoverFor = sc.Spike, 150*time.Second, 60*time.Second, 10*time.Second
	return sc
}

// tinyScenario is the quick scenario at a tenth of its size (5 workers, 5
// client instances), for tests that run the whole program.
func tinyScenario() scenario {
	sc := quickScenario()
	sc.Workers, sc.Clients = 5, 5
	return sc
}
