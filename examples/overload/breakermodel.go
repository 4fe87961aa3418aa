package main

import (
	"time"

	"github.com/magicmagnets/resilience/breaker"
)

// breaker.Breaker reads the wall clock (time.Now), and the simulation runs
// in simulated time, so it cannot call it. breakerModel applies the same
// documented rules to a simulated clock, for the configurations the study
// uses; models_test.go checks, inside a testing/synctest bubble, that it
// makes the same decisions as the real Breaker.

// breakerModel mirrors breaker.Breaker with a count window and neither
// slow-call timing nor a consecutive-failure trip: it trips when the window
// holds at least MinCalls outcomes and failures/calls ≥ FailureRate, stays
// open for OpenFor (doubling on each failed probe up to MaxOpenFor), then
// admits HalfOpenProbes probes; all must succeed to close it. A probe holds
// its slot for at most OpenFor, and a probe that returns after its slot went
// to another call is ignored. A call that finds every slot taken is rejected
// with a hint that follows the model's halfOpenHint rule; the default is the
// breaker's own. Outcomes of calls admitted before a state change are
// ignored.
type breakerModel struct {
	minCalls, halfOpenProbes int
	failureRate              float64
	baseOpenFor, maxOpenFor  time.Duration

	state          breaker.State
	gen            uint64
	ring           []bool // true for a failure
	next, calls    int
	failures       int
	openFor        time.Duration
	until          time.Duration // while open: when a probe may be admitted
	probes, probed int
	slots          []probeSlot // while half-open: the probes in flight
	tickets        uint64
}

// probeSlot is a half-open probe slot: its holder's ticket (0 when free)
// and when the holder was admitted.
type probeSlot struct {
	ticket uint64
	since  time.Duration
}

// permit is a call the breaker model admitted; ticket is its probe slot's,
// 0 unless it was a probe.
type permit struct{ gen, ticket uint64 }

// newBreakerModel applies breaker.New's defaults to c. It supports the
// configurations described on breakerModel.
func newBreakerModel(c breaker.Config) *breakerModel {
	if c.Window != 0 || c.SlowCallDuration != 0 || c.ConsecutiveFailures != 0 || c.IsFailure != nil {
		panic("overload: breaker model supports count windows that count every error")
	}
	def := func(v, d int) int {
		if v == 0 {
			return d
		}
		return v
	}
	m := &breakerModel{
		minCalls:       def(c.MinCalls, 20),
		halfOpenProbes: def(c.HalfOpenProbes, 1),
		failureRate:    c.FailureRate,
		baseOpenFor:    c.OpenFor,
		maxOpenFor:     c.MaxOpenFor,
		ring:           make([]bool, def(c.WindowSize, 100)),
	}
	if m.failureRate == 0 {
		m.failureRate = 0.5
	}
	if m.baseOpenFor == 0 {
		m.baseOpenFor = 5 * time.Second
	}
	if m.maxOpenFor == 0 {
		m.maxOpenFor = m.baseOpenFor
	}
	m.minCalls = min(m.minCalls, len(m.ring))
	m.openFor = m.baseOpenFor
	m.slots = make([]probeSlot, m.halfOpenProbes)
	return m
}

// allow admits a call at now, or rejects it with the hint breaker.ErrOpen's
// RetryAfter gives: while open, the time until the open time ends; while
// half-open, the busy hint.
func (m *breakerModel) allow(now time.Duration) (p permit, retryAfter time.Duration, ok bool) {
	if m.state == breaker.Open && now >= m.until {
		m.setState(breaker.HalfOpen, now)
	}
	switch m.state {
	case breaker.Open:
		return permit{}, m.until - now, false
	case breaker.HalfOpen:
		m.expireProbes(now)
		if m.probes+m.probed >= m.halfOpenProbes {
			return permit{}, m.busyHint(now), false
		}
		return permit{gen: m.gen, ticket: m.takeSlot(now)}, 0, true
	}
	return permit{gen: m.gen}, 0, true
}

// busyHint is the hint of a call turned away at now while every probe slot
// is taken.
func (m *breakerModel) busyHint(now time.Duration) time.Duration {
	oldest := m.oldestProbe()
	left := max(oldest+m.baseOpenFor-now, 0)
	floor := max(m.baseOpenFor/50, time.Nanosecond)
	return min(left, max(now-oldest, floor))
}

// takeSlot gives a free probe slot to a probe admitted at now.
func (m *breakerModel) takeSlot(now time.Duration) uint64 {
	for i := range m.slots {
		if m.slots[i].ticket == 0 {
			m.tickets++
			m.slots[i] = probeSlot{m.tickets, now}
			m.probes++
			return m.tickets
		}
	}
	panic("overload: no free probe slot")
}

// freeSlot frees the slot of ticket and reports whether it still held one.
func (m *breakerModel) freeSlot(ticket uint64) bool {
	for i := range m.slots {
		if ticket != 0 && m.slots[i].ticket == ticket {
			m.slots[i] = probeSlot{}
			m.probes--
			return true
		}
	}
	return false
}

// expireProbes frees the slots of probes admitted OpenFor or longer ago.
func (m *breakerModel) expireProbes(now time.Duration) {
	for i, sl := range m.slots {
		if sl.ticket != 0 && now-sl.since >= m.baseOpenFor {
			m.slots[i] = probeSlot{}
			m.probes--
		}
	}
}

// oldestProbe returns when the oldest probe in flight was admitted.
func (m *breakerModel) oldestProbe() time.Duration {
	oldest, found := time.Duration(0), false
	for _, sl := range m.slots {
		if sl.ticket != 0 && (!found || sl.since < oldest) {
			oldest, found = sl.since, true
		}
	}
	return oldest
}

// outcome is how an admitted call ended, for the breaker.
type outcome uint8

const (
	callSucceeded outcome = iota
	callFailed
	callIgnored // a rejection by a policy inside the breaker
)

// done records the outcome of an admitted call at now.
func (m *breakerModel) done(p permit, o outcome, now time.Duration) {
	if p.gen != m.gen {
		return
	}
	if o == callIgnored {
		if m.state == breaker.HalfOpen {
			m.freeSlot(p.ticket)
		}
		return
	}
	failed := o == callFailed
	switch m.state {
	case breaker.Closed:
		m.add(failed)
		if m.calls >= m.minCalls && float64(m.failures)/float64(m.calls) >= m.failureRate {
			m.setState(breaker.Open, now)
		}
	case breaker.HalfOpen:
		if !m.freeSlot(p.ticket) {
			return // it returned too late: its slot went to another call
		}
		if failed {
			m.openFor = min(2*m.openFor, m.maxOpenFor)
			m.setState(breaker.Open, now)
			return
		}
		m.probed++
		if m.probed >= m.halfOpenProbes {
			m.openFor = m.baseOpenFor
			m.setState(breaker.Closed, now)
		}
	}
}

// stateAt is the state a call at now would see.
func (m *breakerModel) stateAt(now time.Duration) breaker.State {
	if m.state == breaker.Open && now >= m.until {
		m.setState(breaker.HalfOpen, now)
	}
	return m.state
}

func (m *breakerModel) add(failed bool) {
	if m.calls == len(m.ring) {
		m.calls--
		if m.ring[m.next] {
			m.failures--
		}
	}
	m.ring[m.next] = failed
	m.calls++
	if failed {
		m.failures++
	}
	m.next = (m.next + 1) % len(m.ring)
}

func (m *breakerModel) setState(to breaker.State, now time.Duration) {
	from := m.state
	m.state = to
	m.gen++
	m.probes, m.probed = 0, 0
	clear(m.slots)
	switch to {
	case breaker.Open:
		m.until = now + m.openFor
	case breaker.Closed:
		if from != breaker.Closed {
			m.next, m.calls, m.failures = 0, 0, 0
		}
	}
}
