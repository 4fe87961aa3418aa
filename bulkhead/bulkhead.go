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
	// releasing a call while nobody waits is one compare-and-swap each and
	// takes no lock. queued changes only under mu, with the queue; a
	// release that sees queued > 0 hands its slot over under mu. So
	// queued > 0 only while inFlight == max, and a slot freed while callers
	// wait always goes to one of them, never to a caller that just arrived.
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
// one (a free slot goes to them first). An admitted call must end with
// exactly one [Permit.Done]. Neither step allocates.
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
		InFlight: int(s & inFlightMask),
		Queued:   int(s >> queuedShift),
		Rejected: b.rejected.Load(),
	}
}

// InFlight returns how many calls hold a slot now.
func (b *Bulkhead) InFlight() int { return int(b.state.Load() & inFlightMask) }

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
func (b *Bulkhead) tryAcquire() bool {
	for {
		s := b.state.Load()
		if s>>queuedShift != 0 || s&inFlightMask >= b.max {
			return false
		}
		if b.state.CompareAndSwap(s, s+1) {
			return true
		}
	}
}

// release gives up a slot: to the first waiter in the queue's order, or
// back to the bulkhead when nobody waits.
func (b *Bulkhead) release() {
	for {
		s := b.state.Load()
		if s&inFlightMask == 0 {
			panic("bulkhead: Done called on a permit that was already released (a copy's Done?)")
		}
		if s>>queuedShift != 0 {
			b.handOff()
			return
		}
		// The compare-and-swap fails if a caller queued since the load;
		// the next turn then hands the slot to it.
		if b.state.CompareAndSwap(s, s-1) {
			return
		}
	}
}

// handOff passes a released slot to the next waiter, under the lock. The
// waiter's place in the queue and the slot change hands in one step:
// queued goes down by one and inFlight stays the same.
func (b *Bulkhead) handOff() {
	b.mu.Lock()
	w := b.queue.pop(b.lifo)
	if w == nil {
		// Every waiter left between the load and the lock: nobody is
		// queued now (queued changes only under mu), so the slot goes back.
		b.state.Add(^uint64(0))
		b.mu.Unlock()
		return
	}
	b.state.Add(^uint64(oneQueued - 1)) // queued - 1
	w.granted = true
	w.ready <- struct{}{} // buffered: never blocks
	b.mu.Unlock()
}

// refuse counts a refusal, emits its KindRejected event and returns err.
func (b *Bulkhead) refuse(err error) error {
	b.rejected.Add(1)
	b.em.Emit(resilience.Event{Kind: resilience.KindRejected, Err: err})
	return err
}
