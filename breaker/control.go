package breaker

import "time"

// State returns the breaker's state. An open breaker whose open time has
// elapsed moves to HalfOpen here, as it would on the next call.
func (b *Breaker) State() State {
	st := State(b.status.Load() & stateMask)
	if st != Open {
		return st
	}
	if e := b.open.Load(); e != nil && !e.halfOpen && (e.untimed || time.Since(b.epoch) < e.end) {
		return Open
	}
	now := time.Now()
	b.mu.Lock()
	ch := b.expire(now)
	st = b.state
	b.mu.Unlock()
	b.changed(ch)
	return st
}

// ForceOpen opens the breaker until [Breaker.Reset] or [Breaker.Disable]:
// every call is rejected with an error matching [ErrOpen] whose RetryAfter is
// 0. State reports Open.
func (b *Breaker) ForceOpen() {
	b.manual(forcedOpen, Open)
}

// Disable makes the breaker admit every call until [Breaker.Reset] or
// [Breaker.ForceOpen]. It still counts outcomes (see [Breaker.Metrics]) but
// never trips. State reports Closed; if the breaker was not closed, it starts
// with a fresh window.
func (b *Breaker) Disable() {
	b.manual(disabled, Closed)
}

// Reset closes the breaker with a fresh window, ends ForceOpen and Disable,
// and sets the open time back to OpenFor. Results of calls admitted before
// Reset are ignored.
func (b *Breaker) Reset() {
	now := time.Now()
	b.mu.Lock()
	b.mode = automatic
	b.openFor = b.s.openFor
	from := b.state
	b.win.reset(now) // before setState, which publishes whether it is healthy
	b.setState(Closed, now)
	b.mu.Unlock()
	b.changed(change{from, Closed})
}

// manual switches to mode m, whose state is to.
func (b *Breaker) manual(m mode, to State) {
	now := time.Now()
	b.mu.Lock()
	b.mode = m
	var ch change
	if b.state != to || to == Open {
		// Re-entering Open also replaces the rejection error of a tripped
		// breaker with the forced one.
		ch = b.setState(to, now)
	}
	b.mu.Unlock()
	b.changed(ch)
}
