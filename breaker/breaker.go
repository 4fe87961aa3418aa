package breaker

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/internal/callerr"
	"github.com/magicmagnets/resilience/internal/emit"
)

// Breaker is a circuit breaker. Make one with [New]; the zero value is not
// usable. A Breaker is safe for concurrent use and starts no goroutine: it
// moves from Open to HalfOpen lazily, on the first call (or [Breaker.State])
// once its open time has elapsed.
type Breaker struct {
	s     settings
	epoch time.Time // when New ran; Permit keeps its start time relative to it
	flags uint64    // timesCalls and observed, as set by New; kept in status too

	// status is gen<<genShift | flags | healthy | state, so that Allow reads
	// them with one atomic load and takes no lock while the breaker is
	// closed, and a success recorded while the window is healthy takes none
	// either.
	status atomic.Uint64
	// open is the rejection error of the current open period, nil unless the
	// breaker is open, so that rejections take no lock either.
	open atomic.Pointer[openError]

	// rejects counts rejections since New, without the lock.
	rejects atomic.Int64

	em emit.Emitter

	mu          sync.Mutex
	state       State
	mode        mode
	gen         uint64      // bumped on every state change; results of older generations are ignored
	since       time.Time   // when the breaker entered state
	win         window      // outcomes while closed
	tw          *timeWindow // win, when it is a time window; set by New
	tripped     counts      // the window's counts when the breaker left Closed
	consecutive int         // failures in a row while closed
	openErr     *openError  // the rejection error while open
	openFor     time.Duration
	slots       []probeSlot // while half-open: the probes that hold a slot
	tickets     uint64      // the last ticket handed to a probe
	busy        *openError  // the rejection while half-open with every slot taken
	probes      int         // probes holding a slot while half-open
	probed      int         // probes that succeeded while half-open
	slowProbes  int         // of those, the slow ones
	trips       int
}

// The layout of Breaker.status.
const (
	stateMask = 1<<2 - 1
	// healthy is set while the breaker is closed and its window may record
	// a success without the lock (window.lockFree): a count window that is
	// full and holds neither failures nor slow calls, where a success
	// changes nothing, or a time window with no failures in a row, where it
	// only adds to its epoch's count. Such a success is linearized before
	// any change that clears the bit.
	healthy = 1 << 2
	// timesCalls is set when a Permit keeps its start time: for slow-call
	// timing or for the observer's KindCall.
	timesCalls = 1 << 3
	// observed is set when the breaker has an Observer.
	observed = 1 << 4
	genShift = 5
)

// mode is a manual override of the breaker's own rules.
type mode uint8

const (
	automatic mode = iota
	forcedOpen
	disabled
)

var _ resilience.Policy = (*Breaker)(nil)

// New returns a closed breaker configured by c. It panics with a message
// starting "breaker: " on a configuration that can never be right: a negative
// field, a rate outside (0, 1], MaxOpenFor below OpenFor. [Config.Validate]
// reports the same problems as an error.
func New(c Config) *Breaker {
	s, err := c.settings()
	if err != nil {
		panic(err.Error())
	}
	now := time.Now()
	b := &Breaker{
		s:       s,
		em:      emit.Emitter{Policy: "breaker", Name: c.Name, Observer: c.Observer},
		epoch:   now,
		since:   now,
		openFor: s.openFor,
		slots:   make([]probeSlot, s.halfOpenProbes),
	}
	if s.window > 0 {
		b.tw = newTimeWindow(s.window, now)
		b.win = b.tw
	} else {
		b.win = newCountWindow(s.windowSize)
	}
	if c.Observer != nil {
		b.flags |= observed | timesCalls
	}
	if s.slowCall > 0 {
		b.flags |= timesCalls
	}
	b.publish()
	return b
}

// Do runs fn if the breaker admits the call and records its outcome.
//
// A rejected call returns an error matching [ErrOpen] and
// [resilience.ErrRejected] without running fn. A nil fn returns an error
// matching [resilience.ErrNilFunc]. Otherwise Do returns fn's error
// unchanged, and records it:
//   - nil is a success;
//   - the end of the caller's own context (ctx is done, cancelled or past its
//     deadline, and fn's error matches ctx.Err()) is not a failure: the call
//     is recorded only as slow, when it took longer than SlowCallDuration,
//     and otherwise not at all;
//   - an error Config.Ignore matches (by default, a rejection by a policy
//     inside the breaker) is not recorded;
//   - any other error is a failure unless Config.IsFailure says it is not.
//
// A call that hangs until the caller gives up is therefore not counted as a
// failure. To count hangs, put a per-attempt timeout inside the breaker, as
// in resilience.Chain(..., breaker.New(...), timeout.New(perAttempt)): its
// deadline is not the caller's, so the timed-out attempt is a failure.
//
// If fn panics (or a Config hook does), the call counts as a failure, frees
// its probe slot if it had one, and the panic goes on.
func (b *Breaker) Do(ctx context.Context, fn resilience.Func) error {
	return b.DoNext(ctx, nil, fn)
}

// DoNext implements [resilience.Nexter].
func (b *Breaker) DoNext(ctx context.Context, next resilience.Policy, fn resilience.Func) error {
	if fn == nil {
		return resilience.ErrNilFunc
	}
	p, err := b.Allow()
	if err != nil {
		return err
	}
	defer p.abort()
	if next == nil {
		err = fn(ctx)
	} else {
		err = next.Do(ctx, fn)
	}
	// ctx.Err first: it is far cheaper than matching err's chain.
	v := ended
	if err == nil || ctx.Err() == nil || !callerr.Ended(ctx, err) {
		v = b.judge(err)
	}
	if o := p.finish(v); o != nil {
		o.called(p.start, err)
	}
	return err
}

// Allow is the two-step form of [Breaker.Do] for code that cannot pass a
// closure: it admits a call or rejects it with an error matching [ErrOpen]
// and [resilience.ErrRejected]. An admitted call must end with exactly one
// [Permit.Done]. Neither step allocates.
func (b *Breaker) Allow() (Permit, error) {
	st := b.status.Load()
	if State(st&stateMask) == Closed {
		p := Permit{b: b, gen: st >> genShift}
		if st&timesCalls != 0 {
			p.start = time.Since(b.epoch)
		}
		return p, nil
	}
	var start time.Duration // when an observed rejection started
	if st&observed != 0 {
		start = time.Since(b.epoch)
	}
	if e := b.open.Load(); e != nil && (e.untimed || time.Since(b.epoch) < e.end) {
		b.rejected(e, start)
		return Permit{}, e
	}
	return b.allowLocked(start)
}

// allowLocked admits or rejects a call under the lock: the breaker is open
// and its time may be up, or it is half-open. start is when the call
// started, for an observed rejection.
func (b *Breaker) allowLocked(start time.Duration) (Permit, error) {
	now := time.Now()
	var rej *openError
	p := Permit{b: b}
	if b.flags&timesCalls != 0 {
		p.start = now.Sub(b.epoch)
	}

	b.mu.Lock()
	ch := b.expire(now)
	switch b.state {
	case Closed:
	case HalfOpen:
		b.expireProbes(now)
		if b.probes+b.probed < b.s.halfOpenProbes {
			p.probe = b.takeSlot(now)
		} else {
			rej = b.busy
		}
	case Open:
		rej = b.openErr
	}
	p.gen = b.gen
	b.mu.Unlock()

	if rej != nil {
		b.changed(ch)
		b.rejected(rej, start)
		return Permit{}, rej
	}
	if ch.from != ch.to {
		b.announce(&p, ch)
	}
	return p, nil
}

// announce reports a state change to the observer while p holds an admitted
// call. If the observer panics, the caller never receives p, so p gives its
// probe slot back before the panic goes on.
func (b *Breaker) announce(p *Permit, ch change) {
	reported := false
	defer func() {
		if !reported {
			p.finish(ignored)
		}
	}()
	b.changed(ch)
	reported = true
}

// verdict is how a call's result is recorded.
type verdict uint8

const (
	success verdict = iota
	failure
	ended   // the caller's own context ended: recorded only if slow
	ignored // neither success nor failure: not recorded
)

// judge tells a success from a failure or an ignored error, for a result
// that is not the end of the caller's own context.
func (b *Breaker) judge(err error) verdict {
	switch {
	case err == nil:
		return success
	case b.s.ignore(err):
		return ignored
	case b.s.isFailure != nil && !b.s.isFailure(err):
		return success
	}
	return failure
}

// Permit is a call admitted by [Breaker.Allow]. It is a small value; its zero
// value is a permit for nothing, whose Done does nothing.
type Permit struct {
	b     *Breaker
	gen   uint64
	probe uint64        // the ticket of the probe slot it holds; 0 unless half-open
	start time.Duration // since b.epoch; set only when the breaker times calls
}

// Done records the outcome of the admitted call: err is its error, nil for a
// success. Only the first call of Done on a Permit counts; later ones do
// nothing. (A copy of a Permit is a separate value: call Done on one copy.)
// With an Observer, Done emits the call's KindCall event, its Duration
// measured from Allow.
//
// Done has no context, so it cannot tell the end of the caller's own context
// from an error that came from elsewhere. It takes every error matching
// context.Canceled to be the caller's own cancellation, which is not a
// failure (recorded only as slow, when the call took longer than
// SlowCallDuration). An error matching context.DeadlineExceeded is a
// failure like any other: Done cannot know whose deadline passed. Where the
// caller's own deadline may end the call, use [Breaker.Do], which checks the
// context. Errors Config.Ignore matches are not recorded; any other error is
// a failure unless Config.IsFailure says it is not.
//
// A result that arrives after the breaker has changed state since Allow is
// ignored, and so is that of a probe whose slot went to another call (see
// Config.HalfOpenProbes). If Config.Ignore or Config.IsFailure panics, the
// call counts as a failure and the panic goes on.
func (p *Permit) Done(err error) {
	switch {
	case p.b == nil:
		return
	case err == nil:
		if o := p.finish(success); o != nil {
			o.called(p.start, nil)
		}
		return
	}
	defer p.abort() // a Config hook that panics leaves a failure, not a held slot
	v := ended
	if !errors.Is(err, context.Canceled) {
		v = p.b.judge(err)
	}
	if o := p.finish(v); o != nil {
		o.called(p.start, err)
	}
}

// called reports a call that started at start (since b.epoch) and returned
// err to the observer.
func (b *Breaker) called(start time.Duration, err error) {
	b.em.Emit(resilience.Event{Kind: resilience.KindCall, Duration: time.Since(b.epoch) - start, Err: err})
}

// abort records a failure for a call that did not return: fn or a Config
// hook panicked, or fn called runtime.Goexit. It does nothing once finish
// has run. Such a call emits no KindCall: it has no outcome.
func (p *Permit) abort() {
	if p.b != nil {
		p.finish(failure)
	}
}

// finish records one result, once. It returns the breaker if it has an
// observer to be told of the call (with called, when the call returned), nil
// otherwise; it tells the observer of a slow call and a state change itself.
func (p *Permit) finish(v verdict) *Breaker {
	b := p.b
	p.b = nil
	var o outcome
	if v == failure {
		o = failed
	}
	// el is when the call finished, since b.epoch, or -1 until the clock is
	// read: time.Since reads only the monotonic clock, about half the cost
	// of time.Now.
	el := time.Duration(-1)
	var took time.Duration
	if b.s.slowCall > 0 && v != ignored {
		el = time.Since(b.epoch)
		took = el - p.start
		if took > b.s.slowCall {
			o |= slow
		}
	}
	if v == ended && o == 0 {
		v = ignored // nothing to say about the dependency
	}
	if v == ignored && p.probe == 0 {
		return b.observed() // only a probe has something to give back
	}
	if v == success && o == 0 {
		if st := b.status.Load(); st&healthy != 0 && st>>genShift == p.gen {
			// A count window needs nothing recorded; a time window counts
			// the success in its epoch, if that epoch is open.
			if tw := b.tw; tw == nil || tw.addSuccess(b.elapsed(el)) {
				if st&observed == 0 {
					return nil
				}
				return b
			}
		}
	}
	var now time.Time
	if el >= 0 {
		now = b.epoch.Add(el)
	} else if b.tw != nil || p.probe != 0 {
		now = time.Now()
	}
	b.mu.Lock()
	ch := b.record(p.gen, p.probe, o, v, now)
	b.mu.Unlock()

	if o&slow != 0 {
		b.em.Emit(resilience.Event{Kind: resilience.KindSlowCall, Duration: took})
	}
	b.changed(ch)
	return b.observed()
}

// elapsed returns el, or the time since b.epoch when el is -1 (not read yet).
func (b *Breaker) elapsed(el time.Duration) time.Duration {
	if el < 0 {
		return time.Since(b.epoch)
	}
	return el
}

// observed returns b if it has an observer, nil otherwise.
func (b *Breaker) observed() *Breaker {
	if b.flags&observed == 0 {
		return nil
	}
	return b
}
