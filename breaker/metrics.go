package breaker

import "time"

// Metrics is a snapshot of a breaker, returned by [Breaker.Metrics].
type Metrics struct {
	State      State // as reported by State
	ForcedOpen bool  // ForceOpen is in effect (State is Open)
	Disabled   bool  // Disable is in effect (State is Closed)

	// TimeInState is how long the breaker has been in State.
	TimeInState time.Duration

	// The counts of the window. While the breaker is open or half-open they
	// are the counts it held when it left Closed (those that tripped it),
	// however long ago that was, even with a time window; closing it starts
	// a fresh window.
	Calls        int     // calls the window holds
	Failures     int     // of those, the failures
	SlowCalls    int     // of those, the slow calls (failed or not)
	FailureRate  float64 // Failures / Calls, 0 when Calls is 0
	SlowCallRate float64 // SlowCalls / Calls, 0 when Calls is 0

	// ConsecutiveFailures is the number of failures in a row while closed.
	ConsecutiveFailures int

	// OpenFor is the length of the current open period while the breaker is
	// open, and of the next one otherwise: Config.OpenFor, doubled for every
	// failed probe since the last close, up to Config.MaxOpenFor.
	OpenFor time.Duration

	// RetryAfter is the hint a call rejected now would carry (see
	// [ErrOpen]): open, the time until a probe; half-open with every probe
	// slot taken, about the oldest probe's age, at least OpenFor/50 and at
	// most the time until that probe's slot frees. It is 0 otherwise, and
	// when the breaker is forced open.
	RetryAfter time.Duration

	// Probes is the number of probes holding a slot while the breaker is
	// half-open. A probe that has not returned OpenFor after it was admitted
	// holds its slot only until a call wants it.
	Probes int

	// Trips is how many times the breaker has tripped open since New, forced
	// opens not included.
	Trips int

	// Rejected is how many calls the breaker has rejected since New, open,
	// forced open or half-open.
	Rejected int
}

// Metrics returns a snapshot of the breaker. Like State, it moves an open
// breaker whose time is up to HalfOpen.
func (b *Breaker) Metrics() Metrics {
	now := time.Now()
	b.mu.Lock()
	ch := b.expire(now)
	c := b.tripped
	if b.state == Closed {
		c = b.win.totals(now)
	}
	m := Metrics{
		State:               b.state,
		ForcedOpen:          b.mode == forcedOpen,
		Disabled:            b.mode == disabled,
		TimeInState:         now.Sub(b.since),
		Calls:               c.calls,
		Failures:            c.failures,
		SlowCalls:           c.slow,
		ConsecutiveFailures: b.consecutive,
		OpenFor:             b.openFor,
		Probes:              b.probes,
		Trips:               b.trips,
		Rejected:            int(b.rejects.Load()),
	}
	switch {
	case b.state == Open && b.mode != forcedOpen:
		m.RetryAfter = b.openErr.retryAfter(now)
	case b.state == HalfOpen && b.busy != nil:
		m.RetryAfter = b.busy.retryAfter(now)
	}
	b.mu.Unlock()
	b.changed(ch)

	if c.calls > 0 {
		m.FailureRate = rate(c.failures, c.calls)
		m.SlowCallRate = rate(c.slow, c.calls)
	}
	return m
}
