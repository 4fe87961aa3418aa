package bulkhead

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/internal/emit"
)

// Bulkhead bounds how many calls run at once, with an optional bounded
// queue of callers waiting for a slot. Make one with [New]; the zero value
// is not usable. A Bulkhead is safe for concurrent use and starts no
// goroutine.
type Bulkhead struct {
	max      uint64 // MaxConcurrent
	maxQueue uint64
	maxWait  time.Duration
	lifo     bool
	em       emit.Emitter

	// state is queued<<queuedShift | inFlight, so that admitting and
	// releasing a call while nobody waits is one atomic add each and takes
	// no lock. queued changes only under mu, with the queue; a slot freed
	// while callers are queued is handed to one of them under mu (see
	// dispatch), never to a caller that just arrived.
	state atomic.Uint64

	rejected atomic.Uint64 // refusals since New

	mu    sync.Mutex
	queue queue // the waiters, under mu
}

// The layout of Bulkhead.state.
const (
	queuedShift  = 32
	inFlightMask = 1<<queuedShift - 1
	oneQueued    = 1 << queuedShift
)

var _ resilience.Nexter = (*Bulkhead)(nil)

// New returns a bulkhead configured by c. It panics with a message starting
// "bulkhead: " on a configuration that can never be right: a negative
// MaxConcurrent, MaxQueue or MaxWait, or a MaxConcurrent or MaxQueue above
// math.MaxInt32. [Config.Validate] reports the same problems as an error.
func New(c Config) *Bulkhead {
	if err := c.Validate(); err != nil {
		panic(err.Error())
	}
	return &Bulkhead{
		max:      uint64(c.maxConcurrent()),
		maxQueue: uint64(c.MaxQueue),
		maxWait:  c.MaxWait,
		lifo:     c.LIFO,
		em:       emit.Emitter{Policy: "bulkhead", Name: c.Name, Observer: c.Observer},
	}
}

// Do runs fn if the bulkhead has a free slot, or once one frees while the
// caller waits in the queue, and returns fn's error unchanged. Otherwise it
// returns without running fn:
//   - an error matching [ErrFull] and [resilience.ErrRejected] when no slot
//     was free and the queue was full (or Config.MaxQueue is zero), or the
//     caller waited Config.MaxWait in the queue without getting one;
//   - ctx.Err() when ctx was already done, or ended while the caller waited
//     in the queue: the caller gave up, which is not a refusal;
//   - an error matching [resilience.ErrNilFunc] when fn is nil.
//
// The slot is released when fn returns, and also when it panics; the panic
// goes on. With an uncontended bulkhead Do does not allocate.
func (b *Bulkhead) Do(ctx context.Context, fn resilience.Func) error {
	return b.DoNext(ctx, nil, fn)
}

// DoNext implements [resilience.Nexter]: it is Do running next.Do(ctx, fn)
// in the slot rather than fn(ctx).
func (b *Bulkhead) DoNext(ctx context.Context, next resilience.Policy, fn resilience.Func) error {
	if fn == nil {
		return resilience.ErrNilFunc
	}
	start := b.em.Start()
	if err := b.acquire(ctx); err != nil {
		b.em.Call(start, err)
		return err
	}
	err := b.run(ctx, next, fn)
	b.em.Call(start, err)
	return err
}

// run runs the call in the slot the caller holds and releases it, also
// when the call panics.
func (b *Bulkhead) run(ctx context.Context, next resilience.Policy, fn resilience.Func) error {
	defer b.release()
	if next == nil {
		return fn(ctx)
	}
	return next.Do(ctx, fn)
}

// Allow is the two-step form of [Bulkhead.Do] that never waits: it returns
// a [Permit] for a free slot, or at once an error matching [ErrFull] and
// [resilience.ErrRejected] when none is free or callers are queued for
// one (a free slot goes to them first). A caller racing another for the
// last slot in the same instant may be refused even if the other is then
// refused too; no call is ever admitted past MaxConcurrent. An admitted
// call must end with exactly one [Permit.Done]. Neither step allocates.
func (b *Bulkhead) Allow() (Permit, error) {
	start := b.em.Start()
	if !b.tryAcquire() {
		err := b.refuse(ErrFull)
		b.em.Call(start, err)
		return Permit{}, err
	}
	return Permit{b: b, start: start}, nil
}

// Acquire is the two-step form of [Bulkhead.Do]: it returns a [Permit] for
// a free slot, or waits in the queue for one as Do does, and returns what
// Do would return without running fn: an error matching [ErrFull] and
// [resilience.ErrRejected], or ctx.Err() when ctx ends first. An admitted
// call must end with exactly one [Permit.Done].
func (b *Bulkhead) Acquire(ctx context.Context) (Permit, error) {
	start := b.em.Start()
	if err := b.acquire(ctx); err != nil {
		b.em.Call(start, err)
		return Permit{}, err
	}
	return Permit{b: b, start: start}, nil
}

// Permit is a slot admitted by [Bulkhead.Allow] or [Bulkhead.Acquire]. It
// is a small value; its zero value is a permit for nothing, whose Done does
// nothing.
type Permit struct {
	b     *Bulkhead
	start time.Time // when the call started; zero unless the bulkhead is observed
}

// Done releases the slot: to the next queued caller, if any, or back to
// the bulkhead. Only the first call of Done on a Permit counts; later ones
// do nothing. A copy of a Permit is a separate value: calling Done on two
// copies releases two slots, which is a programmer error — the bulkhead
// panics, with a message starting "bulkhead: ", when it is asked to release
// more slots than it admitted.
//
// With an Observer, Done emits the call's KindCall event, its Duration
// measured from Allow or Acquire and its Err nil: the bulkhead does not see
// the call's outcome. The slot is released before the event is sent.
func (p *Permit) Done() {
	b := p.b
	if b == nil {
		return
	}
	p.b = nil
	b.release()
	b.em.Call(p.start, nil)
}

// Metrics is a snapshot of a bulkhead, returned by [Bulkhead.Metrics].
type Metrics struct {
	InFlight int    // calls holding a slot
	Queued   int    // callers waiting in the queue for a slot
	Rejected uint64 // calls refused with ErrFull since New
}

// Metrics returns a snapshot of the bulkhead, read without a lock: its
// fields are each true at some instant of the call.
func (b *Bulkhead) Metrics() Metrics {
	s := b.state.Load()
	return Metrics{
		InFlight: int(min(s&inFlightMask, b.max)),
		Queued:   int(s >> queuedShift),
		Rejected: b.rejected.Load(),
	}
}

// InFlight returns how many calls hold a slot now.
func (b *Bulkhead) InFlight() int { return int(min(b.state.Load()&inFlightMask, b.max)) }

// Limit returns how many calls may hold a slot at once: Config.MaxConcurrent,
// after defaults.
func (b *Bulkhead) Limit() int { return int(b.max) }

// acquire takes a slot for the caller, waiting in the queue if there is
// one, and returns nil once it holds it. It refuses with ErrFull or
// errWaited, or returns ctx.Err().
func (b *Bulkhead) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err // a context that is already done runs nothing
	}
	if b.tryAcquire() {
		return nil
	}
	return b.wait(ctx)
}

// tryAcquire takes a free slot if nobody is queued for one.
//
// It counts itself in first, with one atomic add, and backs out when that
// made too many or callers are queued: under contention one add moves the
// state's cache line once, where a load and a compare-and-swap would move
// it twice. A caller backing out is counted in state for that instant, so a
// caller racing it may see one slot fewer than there is and be refused; no
// caller is ever admitted past MaxConcurrent.
func (b *Bulkhead) tryAcquire() bool {
	s := b.state.Add(1)
	if s>>queuedShift == 0 && s&inFlightMask <= b.max {
		return true
	}
	b.backOut()
	return false
}

// backOut undoes tryAcquire's add for a caller it did not admit. If callers
// queued meanwhile, counting on the slot it seemed to take, the slot is
// theirs.
func (b *Bulkhead) backOut() {
	s := b.state.Add(^uint64(0))
	if s&inFlightMask == inFlightMask {
		// A permit released twice took this caller's count already: the
		// state is right without the undo.
		b.state.Add(1)
		return
	}
	b.free(s)
}

// release gives up a slot: to the next waiter in the queue's order, or
// back to the bulkhead when nobody waits.
func (b *Bulkhead) release() {
	s := b.state.Add(^uint64(0))
	if s&inFlightMask == inFlightMask {
		// inFlight was 0: more releases than admissions. Undo, so that
		// the state is as it was, and say so.
		b.state.Add(1)
		panic("bulkhead: Done called on a permit that was already released (a copy's Done?)")
	}
	b.free(s)
}

// free follows a decrement of inFlight that left the state s: when callers
// are queued, the freed slot is theirs.
func (b *Bulkhead) free(s uint64) {
	if s>>queuedShift != 0 && s&inFlightMask < b.max {
		b.mu.Lock()
		b.dispatch()
		b.mu.Unlock()
	}
}

// dispatch hands free slots to waiters, in the queue's order, while there
// are both; b.mu must be held. A waiter's place in the queue and a slot
// change hands in one step: queued goes down by one and inFlight up by one.
//
// Whoever frees a slot while callers are queued calls dispatch, and so does
// a caller that has just queued, so no slot stays free while a caller
// waits: a decrement of inFlight that saw queued > 0 calls it (after this
// lock), and one that saw queued == 0 happened before a caller queued,
// which then calls it. A slot is never given to a newcomer ahead of a
// waiter: tryAcquire backs out whenever anyone is queued.
func (b *Bulkhead) dispatch() {
	for b.queue.head != nil {
		s := b.state.Load()
		if s&inFlightMask >= b.max {
			return // none free; a caller backing out (backOut) calls dispatch again
		}
		if !b.state.CompareAndSwap(s, s+1-oneQueued) {
			continue
		}
		w := b.queue.pop(b.lifo)
		w.granted = true
		w.ready <- struct{}{} // buffered: never blocks
	}
}

// refuse counts a refusal, emits its KindRejected event and returns err.
func (b *Bulkhead) refuse(err error) error {
	b.rejected.Add(1)
	b.em.Emit(resilience.Event{Kind: resilience.KindRejected, Err: err})
	return err
}
