package breaker

import (
	"time"

	"github.com/magicmagnets/resilience"
)

// State is the state of a [Breaker].
//
// A breaker forced open with [Breaker.ForceOpen] reports Open, and a disabled
// one ([Breaker.Disable]) reports Closed, since that is how they treat calls;
// [Metrics] tells them apart with its ForcedOpen and Disabled fields.
type State uint8

// The states of a breaker.
const (
	// Closed admits every call and counts its outcome.
	Closed State = iota
	// Open rejects every call with an error matching ErrOpen until its open
	// time has elapsed.
	Open
	// HalfOpen admits a bounded number of probes; the other calls are
	// rejected. All probes succeeding closes the breaker, any failing opens
	// it again.
	HalfOpen
)

// String returns "closed", "open" or "half-open".
func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case Open:
		return "open"
	case HalfOpen:
		return "half-open"
	}
	return "unknown"
}

// change is a state change to report once the lock is released.
type change struct {
	from, to State
}

// setState moves the breaker to state to at now and starts a new
// generation, so that results of calls admitted before are ignored. The
// caller holds b.mu.
func (b *Breaker) setState(to State, now time.Time) change {
	from := b.state
	b.state, b.since = to, now
	b.gen++
	b.probes, b.probed, b.slowProbes = 0, 0, 0
	clear(b.slots)
	b.busy = nil
	if from == Closed && to != Closed {
		b.tripped = b.win.totals(now)
	}
	switch to {
	case Closed:
		b.openErr = nil
		b.consecutive = 0
		if from != Closed {
			b.win.reset(now)
		}
	case Open:
		if b.mode == forcedOpen {
			b.openErr = errForcedOpen
		} else {
			b.openErr = &openError{until: now.Add(b.openFor), end: now.Sub(b.epoch) + b.openFor}
			b.trips++
		}
	case HalfOpen:
		b.openErr = nil
	}
	// Publish the rejection error before the state, so that a reader that
	// sees the new state also sees its error (or a later one).
	b.open.Store(b.openErr)
	b.publish()
	return change{from, to}
}

// publish stores the generation, the flags, the state and whether the window
// is healthy in b.status. The caller holds b.mu, or New has not returned.
func (b *Breaker) publish() {
	st := b.gen<<genShift | b.flags | uint64(b.state)
	if b.state == Closed && b.win.lockFree(b.consecutive) {
		st |= healthy
	}
	b.status.Store(st)
}

// expire moves an open breaker whose time is up to half-open. The caller
// holds b.mu.
func (b *Breaker) expire(now time.Time) change {
	if b.state != Open || b.mode == forcedOpen || now.Before(b.openErr.until) {
		return change{}
	}
	return b.setState(HalfOpen, now)
}

// record counts the result of a call admitted in generation gen, holding
// probe slot ticket probe (0 unless it was a probe). The caller holds b.mu.
// now is zero unless the window, slow-call timing or a probe needed it.
func (b *Breaker) record(gen, probe uint64, o outcome, v verdict, now time.Time) change {
	if gen != b.gen {
		return change{}
	}
	switch b.state {
	case Closed:
		if v == ignored {
			return change{}
		}
		b.win.add(now, o)
		switch {
		case o&failed != 0:
			b.consecutive++
		case v == success:
			b.consecutive = 0
		}
		if b.mode != disabled && b.shouldTrip(now) {
			return b.setState(Open, orNow(now))
		}
		if h := b.win.lockFree(b.consecutive); h != (b.status.Load()&healthy != 0) {
			b.publish()
		}
		return change{}
	case HalfOpen:
		if !b.freeSlot(probe) {
			return change{} // it returned too late: its slot went to another call
		}
		if v == ignored {
			b.refreshBusy()
			return change{}
		}
		if o&failed != 0 {
			return b.reopen(now)
		}
		b.probed++
		if o&slow != 0 {
			b.slowProbes++
		}
		if b.probed < b.s.halfOpenProbes {
			b.refreshBusy()
			return change{}
		}
		if b.s.slowCall > 0 && rate(b.slowProbes, b.probed) >= b.s.slowCallRate {
			return b.reopen(now)
		}
		b.openFor = b.s.openFor
		return b.setState(Closed, now)
	}
	return change{}
}

// probeSlot is a probe slot of a half-open breaker.
type probeSlot struct {
	ticket uint64    // the holder's ticket; 0 when the slot is free
	since  time.Time // when the holder was admitted
}

// takeSlot gives a free probe slot to a probe admitted at now and returns
// its ticket. The caller holds b.mu, and a slot is free.
func (b *Breaker) takeSlot(now time.Time) uint64 {
	for i := range b.slots {
		if b.slots[i].ticket == 0 {
			b.tickets++
			b.slots[i] = probeSlot{b.tickets, now}
			b.probes++
			b.refreshBusy()
			return b.tickets
		}
	}
	panic("breaker: no free probe slot") // unreachable: probes < len(slots)
}

// freeSlot frees the slot of the probe with the given ticket and reports
// whether it still held one. The caller holds b.mu.
func (b *Breaker) freeSlot(ticket uint64) bool {
	if ticket == 0 {
		return false
	}
	for i := range b.slots {
		if b.slots[i].ticket == ticket {
			b.slots[i] = probeSlot{}
			b.probes--
			return true
		}
	}
	return false
}

// expireProbes frees the slots of the probes admitted OpenFor or longer
// before now, for a call that wants one: their results will be ignored. The
// caller holds b.mu and the breaker is half-open.
func (b *Breaker) expireProbes(now time.Time) {
	freed := false
	for i := range b.slots {
		if sl := b.slots[i]; sl.ticket != 0 && now.Sub(sl.since) >= b.s.openFor {
			b.slots[i] = probeSlot{}
			b.probes--
			freed = true
		}
	}
	if freed {
		b.refreshBusy()
	}
}

// refreshBusy publishes the rejection of a half-open breaker after its probe
// slots changed: while every slot is taken, an error that rejects calls until
// the oldest probe's slot frees and whose RetryAfter follows that probe's
// age (see ErrOpen); nil while one is free. The caller holds b.mu and the
// breaker is half-open.
func (b *Breaker) refreshBusy() {
	if b.probes+b.probed < b.s.halfOpenProbes {
		b.busy = nil
		b.open.Store(nil)
		return
	}
	var oldest time.Time
	for _, sl := range b.slots {
		if sl.ticket != 0 && (oldest.IsZero() || sl.since.Before(oldest)) {
			oldest = sl.since
		}
	}
	if b.busy != nil && b.busy.probe.Equal(oldest) {
		return
	}
	until := oldest.Add(b.s.openFor)
	b.busy = &openError{until: until, end: until.Sub(b.epoch), halfOpen: true, probe: oldest}
	b.open.Store(b.busy)
}

// shouldTrip reports whether the closed breaker's counts call for a trip.
func (b *Breaker) shouldTrip(now time.Time) bool {
	if b.s.consecutive > 0 && b.consecutive >= b.s.consecutive {
		return true
	}
	c := b.win.totals(now)
	if c.calls < b.s.minCalls {
		return false
	}
	if rate(c.failures, c.calls) >= b.s.failureRate {
		return true
	}
	return b.s.slowCall > 0 && rate(c.slow, c.calls) >= b.s.slowCallRate
}

// reopen opens the breaker again after a failed probe, for twice as long as
// last time, up to MaxOpenFor.
func (b *Breaker) reopen(now time.Time) change {
	if b.openFor > b.s.maxOpenFor/2 {
		b.openFor = b.s.maxOpenFor
	} else {
		b.openFor *= 2
	}
	return b.setState(Open, now)
}

// rate is n / of; of is never 0.
func rate(n, of int) float64 { return float64(n) / float64(of) }

func orNow(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}

// changed reports a state change to the observer. It is called without the
// lock held.
func (b *Breaker) changed(c change) {
	if c.from == c.to {
		return
	}
	b.em.Emit(resilience.Event{Kind: resilience.KindStateChange, From: c.from.String(), To: c.to.String()})
}

// rejected counts a rejection and reports it to the observer: the rejection
// with its hint as the wait, then the call it ended, which started at start
// (since b.epoch).
func (b *Breaker) rejected(e *openError, start time.Duration) {
	b.rejects.Add(1)
	if b.flags&observed == 0 {
		return
	}
	b.em.Emit(resilience.Event{Kind: resilience.KindRejected, Err: e, Delay: e.RetryAfter()})
	b.called(start, e)
}
