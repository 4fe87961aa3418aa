package adaptive

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/internal/callerr"
	"github.com/magicmagnets/resilience/internal/emit"
	"github.com/magicmagnets/resilience/internal/limitalg"
)

// Limiter is an adaptive concurrency limit: it admits a call while fewer
// than [Limiter.Limit] calls are in flight, and moves the limit with the
// latency and drops it measures. Make one with [NewLimiter]; the zero value
// is not usable. A Limiter is safe for concurrent use and starts no
// goroutine; latency is measured with the time package, so inside a
// testing/synctest bubble the bubble's clock drives it (make it inside the
// bubble: it measures from the time NewLimiter ran).
type Limiter struct {
	em     emit.Emitter
	isDrop func(error) bool
	// epoch is when NewLimiter ran. A permit keeps its start as time since
	// epoch: time.Since reads only the monotonic clock, where time.Now reads
	// the wall clock too, and on a virtual machine each read is most of a
	// permit's cost.
	epoch time.Time

	// inflight, limit and the lock each have a cache line of their own:
	// every call writes inflight twice and reads limit, the lock is taken
	// once per call, and the limit is written only when it changes.
	_        [64]byte
	inflight atomic.Int64
	_        [56]byte
	limit    atomic.Int64 // the algorithm's latest answer
	_        [56]byte

	mu  sync.Mutex // guards alg
	alg *limitalg.SampleWindow
}

var _ resilience.Nexter = (*Limiter)(nil)

// NewLimiter returns a limiter configured by c. It panics with a message
// starting "adaptive: " on what [LimiterConfig.Validate] reports.
func NewLimiter(c LimiterConfig) *Limiter {
	if err := c.Validate(); err != nil {
		panic(err.Error())
	}
	l := &Limiter{
		em:     emit.Emitter{Policy: "adaptive", Name: c.Name, Observer: c.Observer},
		isDrop: c.IsDrop,
		epoch:  time.Now(),
		alg:    c.algorithm(),
	}
	if l.isDrop == nil {
		l.isDrop = overloaded
	}
	l.limit.Store(int64(l.alg.Limit()))
	return l
}

// Limit returns the current concurrency limit.
func (l *Limiter) Limit() int { return int(l.limit.Load()) }

// InFlight returns how many admitted calls have not finished.
func (l *Limiter) InFlight() int { return int(l.inflight.Load()) }

// Permit is an admitted call of a [Limiter], from [Limiter.Allow]. End it
// with exactly one [Permit.Done] or [Permit.Ignore]; ending it twice frees
// a slot another call holds. The zero Permit, which a refusal returns,
// ends as a no-op. A Permit is a small value: copy it freely, but end only
// one copy.
type Permit struct {
	l        *Limiter
	start    time.Duration // when it was admitted, as time since l.epoch
	inflight int           // calls in flight when it was admitted, itself included
}

// Allow admits a call when fewer than Limit calls are in flight, and
// otherwise refuses it with an error matching [ErrLimited] and
// [resilience.ErrRejected]. It never waits, and neither it nor the
// Permit's end allocates.
func (l *Limiter) Allow() (Permit, error) {
	for {
		n := l.inflight.Load()
		if n >= l.limit.Load() {
			l.rejected()
			return Permit{}, ErrLimited
		}
		if l.inflight.CompareAndSwap(n, n+1) {
			return Permit{l: l, start: time.Since(l.epoch), inflight: int(n + 1)}, nil
		}
	}
}

func (l *Limiter) rejected() {
	if !l.em.On() {
		return
	}
	l.em.Emit(resilience.Event{Kind: resilience.KindRejected, Err: ErrLimited})
	l.em.Emit(resilience.Event{Kind: resilience.KindCall, Err: ErrLimited})
}

// Done ends the call with its outcome err and samples it: its latency
// (the time since Allow) and the calls in flight when it was admitted go
// to the algorithm, as a drop when err is one (LimiterConfig.IsDrop) and
// otherwise as a success, whatever err is — at once, or in the current
// sample window (LimiterConfig.Window), which reaches the algorithm when
// the first call ending after it closes it. It emits KindCall with err and
// the latency, and KindLimitChange when the limit moved.
//
// Done does not tell the caller's own cancellation apart: a caller that
// gave up should call [Permit.Ignore] instead, as [Limiter.Do] does.
func (p Permit) Done(err error) {
	if p.l == nil {
		return
	}
	now := time.Since(p.l.epoch)
	rtt := now - p.start
	p.l.inflight.Add(-1)
	p.l.sample(now, rtt, p.inflight, err != nil && p.l.isDrop(err))
	p.l.em.Emit(resilience.Event{Kind: resilience.KindCall, Duration: rtt, Err: err})
}

// Ignore ends the call without sampling it (Netflix's onIgnore): the limit
// does not move and no event is emitted. It is what a call gets whose
// outcome says nothing about the dependency, such as the caller's own
// cancellation.
func (p Permit) Ignore() {
	if p.l == nil {
		return
	}
	p.l.inflight.Add(-1)
}

// sample tells the algorithm's window about one call that ended at now
// (time since epoch) and publishes the new limit. The observer hears of a
// change after the lock is released.
func (l *Limiter) sample(now, rtt time.Duration, inflight int, drop bool) {
	l.mu.Lock()
	from := int(l.limit.Load()) // the algorithm's last answer: only sample stores it, under the lock
	to := l.alg.Sample(now, rtt, inflight, drop)
	if to != from {
		l.limit.Store(int64(to))
	}
	l.mu.Unlock()
	if from != to && l.em.On() {
		l.em.Emit(resilience.Event{Kind: resilience.KindLimitChange, From: strconv.Itoa(from), To: strconv.Itoa(to)})
	}
}

// Do runs fn if the limiter admits it, and samples its outcome.
//
// A refused call returns an error matching [ErrLimited] and
// [resilience.ErrRejected] without running fn; a context already done
// returns ctx.Err() and runs nothing; a nil fn returns an error matching
// [resilience.ErrNilFunc]. Otherwise Do returns fn's error unchanged, and
// ends its permit:
//   - with [Permit.Ignore] when fn's error is the end of the caller's own
//     context (ctx is done and the error matches ctx.Err()): the caller
//     gave up, which says nothing about the dependency (a success is
//     sampled even when ctx has ended since);
//   - with [Permit.Done] otherwise: a drop (LimiterConfig.IsDrop) lowers the
//     limit, anything else is sampled as a success.
//
// If fn panics, the permit is ignored and the panic goes on. With an
// Observer, every call, admitted or not, emits KindCall last.
func (l *Limiter) Do(ctx context.Context, fn resilience.Func) error {
	return l.DoNext(ctx, nil, fn)
}

// DoNext implements [resilience.Nexter].
func (l *Limiter) DoNext(ctx context.Context, next resilience.Policy, fn resilience.Func) error {
	if fn == nil {
		return resilience.ErrNilFunc
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := l.Allow()
	if err != nil {
		return err
	}
	ended := false
	defer func() {
		if !ended {
			p.Ignore()
		}
	}()
	if next == nil {
		err = fn(ctx)
	} else {
		err = next.Do(ctx, fn)
	}
	ended = true
	if err != nil && ctx.Err() != nil && callerr.Ended(ctx, err) {
		p.Ignore()
		if l.em.On() {
			l.em.Emit(resilience.Event{Kind: resilience.KindCall, Duration: time.Since(l.epoch) - p.start, Err: err})
		}
		return err
	}
	p.Done(err)
	return err
}
