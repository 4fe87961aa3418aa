// Package breakermodel replays breaker.Breaker's documented rules on a
// simulated clock, for the discrete-event studies under examples:
// breaker.Breaker reads the wall clock (time.Now), and a simulation runs in
// simulated time, so it cannot call it. The package's tests check, inside a
// testing/synctest bubble, that a Model makes the same decisions as the real
// Breaker on the same script of calls.
package breakermodel

import (
	"time"

	"github.com/magicmagnets/resilience/breaker"
)

// Model mirrors breaker.Breaker with a count window and neither
// slow-call timing nor a consecutive-failure trip: it trips when the window
// holds at least MinCalls outcomes and failures/calls ≥ FailureRate, stays
// open for OpenFor (doubling on each failed probe up to MaxOpenFor), then
// admits HalfOpenProbes probes; all must succeed to close it. A probe holds
// its slot for at most OpenFor, and a probe that returns after its slot went
// to another call is ignored. A call that finds every slot taken is rejected
// with a hint that follows the model's Hint rule; the default is the
// breaker's own. Outcomes of calls admitted before a state change are
// ignored.
type Model struct {
	minCalls, halfOpenProbes int
	failureRate              float64
	baseOpenFor, maxOpenFor  time.Duration

	// Hint is the rule for the RetryAfter hint of a call turned away while
	// every probe slot is taken; the zero value is the breaker's own.
	Hint HalfOpenHint

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

// HalfOpenHint is a rule for the RetryAfter hint of a call turned away while
// every probe slot of a half-open breaker is taken. Only HintProbeAge is
// breaker.Breaker's; the others are what it did before, kept so that a study
// can compare them.
type HalfOpenHint uint8

const (
	// HintProbeAge is breaker.Breaker's rule: about as long again as the
	// oldest probe in flight has taken, at least OpenFor/50, and no later
	// than its slot frees.
	HintProbeAge HalfOpenHint = iota
	// HintSlotFrees is the time until the oldest probe's slot frees: up to
	// OpenFor after it was admitted.
	HintSlotFrees
	// HintNone is no hint (0): the retry policy waits its own backoff.
	HintNone
)

// probeSlot is a half-open probe slot: its holder's ticket (0 when free)
// and when the holder was admitted.
type probeSlot struct {
	ticket uint64
	since  time.Duration
}

// Permit is a call the model admitted, to hand back to Done.
type Permit struct{ gen, ticket uint64 }

// New applies breaker.New's defaults to c. It supports the configurations
// described on Model and panics on any other: a time window, slow-call
// timing, a consecutive-failure trip or an IsFailure classifier.
func New(c breaker.Config) *Model {
	if c.Window != 0 || c.SlowCallDuration != 0 || c.ConsecutiveFailures != 0 || c.IsFailure != nil {
		panic("breakermodel: the model supports count windows that count every error")
	}
	def := func(v, d int) int {
		if v == 0 {
			return d
		}
		return v
	}
	m := &Model{
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

// Allow admits a call at now, or rejects it with the hint breaker.ErrOpen's
// RetryAfter gives: while open, the time until the open time ends; while
// half-open, what the model's Hint rule says.
func (m *Model) Allow(now time.Duration) (p Permit, retryAfter time.Duration, ok bool) {
	if m.state == breaker.Open && now >= m.until {
		m.setState(breaker.HalfOpen, now)
	}
	switch m.state {
	case breaker.Open:
		return Permit{}, m.until - now, false
	case breaker.HalfOpen:
		m.expireProbes(now)
		if m.probes+m.probed >= m.halfOpenProbes {
			return Permit{}, m.busyHint(now), false
		}
		return Permit{gen: m.gen, ticket: m.takeSlot(now)}, 0, true
	}
	return Permit{gen: m.gen}, 0, true
}

// busyHint is the hint of a call turned away at now while every probe slot
// is taken.
func (m *Model) busyHint(now time.Duration) time.Duration {
	oldest := m.oldestProbe()
	left := max(oldest+m.baseOpenFor-now, 0)
	switch m.Hint {
	case HintSlotFrees:
		return left
	case HintNone:
		return 0
	}
	floor := max(m.baseOpenFor/50, time.Nanosecond)
	return min(left, max(now-oldest, floor))
}

// takeSlot gives a free probe slot to a probe admitted at now.
func (m *Model) takeSlot(now time.Duration) uint64 {
	for i := range m.slots {
		if m.slots[i].ticket == 0 {
			m.tickets++
			m.slots[i] = probeSlot{m.tickets, now}
			m.probes++
			return m.tickets
		}
	}
	panic("breakermodel: no free probe slot")
}

// freeSlot frees the slot of ticket and reports whether it still held one.
func (m *Model) freeSlot(ticket uint64) bool {
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
func (m *Model) expireProbes(now time.Duration) {
	for i, sl := range m.slots {
		if sl.ticket != 0 && now-sl.since >= m.baseOpenFor {
			m.slots[i] = probeSlot{}
			m.probes--
		}
	}
}

// oldestProbe returns when the oldest probe in flight was admitted.
func (m *Model) oldestProbe() time.Duration {
	oldest, found := time.Duration(0), false
	for _, sl := range m.slots {
		if sl.ticket != 0 && (!found || sl.since < oldest) {
			oldest, found = sl.since, true
		}
	}
	return oldest
}

// Outcome is how an admitted call ended, for the breaker.
type Outcome uint8

const (
	// Succeeded is a call that returned nil.
	Succeeded Outcome = iota
	// Failed is a call that returned an error the breaker counts.
	Failed
	// Ignored is a call rejected by a policy inside the breaker, which
	// breaker.Breaker's default IsFailure leaves unrecorded.
	Ignored
)

// Done records the outcome o of the call admitted with p, at now. The
// outcome of a call admitted before the model's last state change is
// ignored, as is a probe's that returns after its slot went to another call.
func (m *Model) Done(p Permit, o Outcome, now time.Duration) {
	if p.gen != m.gen {
		return
	}
	if o == Ignored {
		if m.state == breaker.HalfOpen {
			m.freeSlot(p.ticket)
		}
		return
	}
	failed := o == Failed
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

// StateAt is the state a call at now would see.
func (m *Model) StateAt(now time.Duration) breaker.State {
	if m.state == breaker.Open && now >= m.until {
		m.setState(breaker.HalfOpen, now)
	}
	return m.state
}

func (m *Model) add(failed bool) {
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

func (m *Model) setState(to breaker.State, now time.Duration) {
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
