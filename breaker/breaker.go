package breaker

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/internal/callerr"
)

// Breaker is a circuit breaker. Make one with [New]; the zero value is not
// usable. A Breaker is safe for concurrent use and starts no goroutine: it
// moves from Open to HalfOpen lazily, on the first call (or [Breaker.State])
// once its open time has elapsed.
type Breaker struct {
	s     settings
	epoch time.Time // when New ran; Permit keeps its start time relative to it

	// status is gen<<genShift | healthy | state, so that Allow reads them
	// with one atomic load and takes no lock while the breaker is closed, and
	// a success recorded while the window is healthy takes none either.
	status atomic.Uint64
	// open is the rejection error of the current open period, nil unless the
	// breaker is open, so that rejections take no lock either.
	open atomic.Pointer[openError]

	mu          sync.Mutex
	state       State
	mode        mode
	gen         uint64     // bumped on every state change; results of older generations are ignored
	since       time.Time  // when the breaker entered state
	win         window     // outcomes while closed; what tripped it while open
	consecutive int        // failures in a row while closed
	openErr     *openError // the rejection error while open
	openFor     time.Duration
	probes      int // probes in flight while half-open
	probed      int // probes that succeeded while half-open
	slowProbes  int // of those, the slow ones
	trips       int
}

// The layout of Breaker.status.
const (
	stateMask = 1<<2 - 1
	// healthy is set while the count window is full and holds neither
	// failures nor slow calls. Recording a success then changes nothing (it
	// replaces a success with a success), so it needs no lock: it is
	// linearized before any change that clears the bit.
	healthy  = 1 << 2
	genShift = 3
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
// field, a rate outside (0, 1], MaxOpenFor below OpenFor.
func New(c Config) *Breaker {
	s := c.settings()
	now := time.Now()
	b := &Breaker{s: s, epoch: now, since: now, openFor: s.openFor}
	if s.window > 0 {
		b.win = newTimeWindow(s.window, now)
	} else {
		b.win = newCountWindow(s.windowSize)
	}
	return b
}

// Do runs fn if the breaker admits the call and records its outcome.
//
// A rejected call returns an error matching [ErrOpen] without running fn. A
// nil fn returns an error matching [resilience.ErrNilFunc]. Otherwise Do
// returns fn's error unchanged. The caller's own cancellation (fn's error
// matches context.Canceled and ctx has been cancelled) is not recorded at
// all; every other error is a failure unless Config.IsFailure says it is not.
// If fn panics, the call counts as a failure, frees its probe slot if it had
// one, and the panic goes on.
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
	if err != nil && ctx.Err() != nil && callerr.Canceled(ctx, err) {
		p.finish(0, true)
	} else {
		p.finish(b.classify(err), false)
	}
	return err
}

// Allow is the two-step form of [Breaker.Do] for code that cannot pass a
// closure: it admits a call or rejects it with an error matching [ErrOpen].
// An admitted call must end with exactly one [Permit.Done]. Neither step
// allocates.
func (b *Breaker) Allow() (Permit, error) {
	st := b.status.Load()
	if State(st&stateMask) == Closed {
		p := Permit{b: b, gen: st >> genShift}
		if b.s.slowCall > 0 {
			p.start = time.Since(b.epoch)
		}
		return p, nil
	}
	if e := b.open.Load(); e != nil && (e.untimed || time.Since(b.epoch) < e.end) {
		b.rejected(e)
		return Permit{}, e
	}
	return b.allowLocked()
}

// allowLocked admits or rejects a call under the lock: the breaker is open
// and its time may be up, or it is half-open.
func (b *Breaker) allowLocked() (Permit, error) {
	now := time.Now()
	var rej *openError
	p := Permit{b: b}
	if b.s.slowCall > 0 {
		p.start = now.Sub(b.epoch)
	}

	b.mu.Lock()
	ch := b.expire(now)
	switch b.state {
	case Closed:
	case HalfOpen:
		if b.probes+b.probed < b.s.halfOpenProbes {
			b.probes++
			if b.probes+b.probed == b.s.halfOpenProbes {
				b.open.Store(errProbesBusy)
			}
		} else {
			rej = errProbesBusy
		}
	case Open:
		rej = b.openErr
	}
	p.gen = b.gen
	b.mu.Unlock()

	b.changed(ch)
	if rej != nil {
		b.rejected(rej)
		return Permit{}, rej
	}
	return p, nil
}

// classify tells a failure from a success for an error that is not the
// caller's own cancellation.
func (b *Breaker) classify(err error) outcome {
	if err == nil || (b.s.isFailure != nil && !b.s.isFailure(err)) {
		return 0
	}
	return failed
}

// Permit is a call admitted by [Breaker.Allow]. It is a small value; its zero
// value is a permit for nothing, whose Done does nothing.
type Permit struct {
	b     *Breaker
	gen   uint64
	start time.Duration // since b.epoch; set only when the breaker times calls
}

// Done records the outcome of the admitted call: err is its error, nil for a
// success. Only the first call of Done on a Permit counts; later ones do
// nothing. (A copy of a Permit is a separate value: call Done on one copy.)
//
// Done has no context, so it cannot tell the caller's own cancellation from
// a cancellation that came from elsewhere: it takes every error matching
// context.Canceled to be the caller's and records nothing for it but the
// release of a probe slot. Any other error is a failure unless
// Config.IsFailure says it is not.
//
// A result that arrives after the breaker has changed state since Allow is
// ignored.
func (p *Permit) Done(err error) {
	if p.b == nil {
		return
	}
	if errors.Is(err, context.Canceled) {
		p.finish(0, true)
		return
	}
	p.finish(p.b.classify(err), false)
}

// abort records a failure for a call that did not return: fn panicked or
// called runtime.Goexit. It does nothing once finish has run.
func (p *Permit) abort() {
	if p.b != nil {
		p.finish(failed, false)
	}
}

// finish records one outcome, once. An ignored outcome only frees a probe
// slot.
func (p *Permit) finish(o outcome, ignored bool) {
	b := p.b
	p.b = nil
	var now time.Time
	var took time.Duration
	if b.s.slowCall > 0 && !ignored {
		now = time.Now()
		took = now.Sub(b.epoch) - p.start
		if took > b.s.slowCall {
			o |= slow
		}
	}
	if o == 0 && !ignored {
		if st := b.status.Load(); st&healthy != 0 && st>>genShift == p.gen {
			return
		}
	}
	if b.win.timed() && now.IsZero() {
		now = time.Now()
	}
	b.mu.Lock()
	ch := b.record(p.gen, o, ignored, now)
	b.mu.Unlock()

	if o&slow != 0 {
		b.emit(resilience.Event{Kind: resilience.KindSlowCall, Delay: took})
	}
	b.changed(ch)
}
