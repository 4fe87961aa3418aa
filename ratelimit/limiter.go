package ratelimit

import (
	"context"
	"errors"
	"math"
	"sync/atomic"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/internal/emit"
)

// Limiter limits the rate of the calls it runs: a token bucket of Burst
// tokens refilled at Rate per Per, local to this process or kept by a
// [Store] shared by a fleet. It is
// safe for concurrent use; build it with [New].
type Limiter struct {
	core
	b   *bucket // the local bucket; nil with a Store
	key string  // the Store's key
}

// core is what a Limiter and a Keyed share: the limit and how a call is
// admitted under it.
type core struct {
	limit   Limit // normalised
	maxWait time.Duration
	store   Store
	emit    emit.Emitter
}

// New returns a Limiter for c. It panics with the message of c.Validate's
// error if c is not valid: a rate that is not positive and finite, a
// negative Per, Burst or MaxWait, a Store without a Key, a Key without a
// Store or one that is too long.
func New(c Config) *Limiter {
	co := newCore(c)
	l := &Limiter{core: co, key: c.Key}
	if c.Store == nil {
		l.b = co.bucket()
	}
	return l
}

func newCore(c Config) core {
	if err := c.Validate(); err != nil {
		panic(err.Error())
	}
	return core{
		limit:   c.limit().norm(),
		maxWait: c.MaxWait,
		store:   c.Store,
		emit:    emit.Emitter{Policy: "ratelimit", Name: c.Name, Observer: c.Observer},
	}
}

// bucket returns a new, full local bucket for the limit.
func (c *core) bucket() *bucket {
	t, tau, due := c.limit.gcraParams()
	return &bucket{t: t, tau: tau, due: due, epoch: time.Now()}
}

// bucket is a local token bucket kept as GCRA keeps it: one theoretical
// arrival time (TAT), in nanoseconds of the monotonic clock since epoch,
// updated by compare-and-swap. It decides as every [Store] does (see the
// Store contract): a take at now, with rel = max(TAT−now, 0), is due at
// once when rel + t is at most due (tau and a nanosecond of slack for
// rounding), else rel + t − tau from now; taking moves TAT to
// now + rel + t. A bucket whose TAT has passed is full (Burst
// tokens); each t of TAT ahead of now is a token spoken for.
//
// Every change is one CAS from the TAT it read, with the clock read after
// the TAT (and again on each retry): so now is never earlier than the time
// the TAT was set at, and a caller delayed between the two reads is not
// refused for a TAT that others moved on meanwhile. A decision and its
// effect are one step: a refusal writes nothing and so spends nothing, and
// a token given back (max(TAT, now) − t) returns exactly the one token
// taken, capped at Burst, whatever was taken since. A waiter's reservation
// is the TAT moved on past now + tau: later callers queue behind it.
type bucket struct {
	tat   atomic.Int64 // ns since epoch; 0 (long past) for a full bucket
	t     int64        // emission interval Per/Rate, ns, rounded
	tau   int64        // tolerance T·Burst, ns, rounded down
	due   int64        // the longest rel + t that is due at once
	epoch time.Time
}

// now is the time since epoch: one read of the monotonic clock.
func (b *bucket) now() int64 { return int64(time.Since(b.epoch)) }

// rel is how far the TAT is ahead of now: zero for a full bucket.
func (b *bucket) rel() int64 {
	tat := b.tat.Load()
	return max(tat-b.now(), 0)
}

// allow takes a token if one is free now.
func (b *bucket) allow() bool {
	for {
		tat := b.tat.Load()
		now := b.now()
		next := satAdd(max(tat-now, 0), b.t)
		if next > b.due {
			return false
		}
		if b.tat.CompareAndSwap(tat, now+next) {
			return true
		}
	}
}

// reserve takes a token, due at once or within the wait that ctx's
// deadline and maxWait permit, or else takes nothing and returns ok false
// with the wait a token would have needed.
func (b *bucket) reserve(ctx context.Context, maxWait time.Duration) (a admission, wait time.Duration, ok bool) {
	for {
		tat := b.tat.Load()
		now := b.now()
		next := satAdd(max(tat-now, 0), b.t)
		wait = 0
		if next > b.due {
			wait = time.Duration(next - b.tau)
			if !mayWait(ctx, b.epoch.Add(time.Duration(now)), wait, maxWait) {
				return admission{}, wait, false
			}
		}
		if b.tat.CompareAndSwap(tat, satAdd(now, next)) {
			return admission{b: b}, wait, true
		}
	}
}

// giveBack returns one token taken from b: the TAT moves back by t from
// now, if it has passed, so a full bucket stays full.
func (b *bucket) giveBack() {
	for {
		tat := b.tat.Load()
		now := b.now()
		if b.tat.CompareAndSwap(tat, max(tat, now)-b.t) {
			return
		}
	}
}

// satAdd is a+b for a, b >= 0, or math.MaxInt64 when that overflows.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// Do runs fn when the limit admits it: at once when a token is free;
// after a wait for one when it comes within MaxWait and before ctx's
// deadline; otherwise it returns a [*LimitedError] (matching [ErrLimited]
// and [resilience.ErrRejected]) whose Wait is the time until a token, and
// fn does not run. A refusal spends no token.
//
// A ctx that is already done runs nothing and returns ctx.Err(); a ctx
// that ends during the wait gives the token back and returns ctx.Err(),
// not a refusal: the caller's own cancellation is not the limit's doing.
//
// When fn returns an error matching resilience.ErrRejected (a limit, a
// bulkhead or a breaker inside this one turned the call away, so it did not
// reach the dependency), the token is given back: stacked local limits
// spend nothing on a call the inner one refused. Any other outcome of fn,
// a failure included, spends the token. A limiter with a Store cannot give
// tokens back (see [Store]): its token is spent once the store admitted the
// call.
//
// With a Store, Do asks Store.Take for one token. When the store denies it
// and its RetryAfter is within MaxWait and before ctx's deadline, Do waits
// that long and asks once more; otherwise, or if the second answer is a
// denial too, Do returns a *LimitedError with Wait the store's RetryAfter.
// A store that cannot decide (Take returns an error) makes Do refuse with
// a *LimitedError whose Err is the store's error: the limit fails closed.
//
// A nil fn returns resilience.ErrNilFunc.
func (l *Limiter) Do(ctx context.Context, fn resilience.Func) error {
	return l.do(ctx, l.b, l.key, nil, fn)
}

// DoNext implements [resilience.Nexter].
func (l *Limiter) DoNext(ctx context.Context, next resilience.Policy, fn resilience.Func) error {
	return l.do(ctx, l.b, l.key, next, fn)
}

// Allow reports whether a token is free now, and takes it if so. It never
// waits and runs nothing; a false answer spends nothing. With a Store it
// asks Store.Take under a background context, and a store that cannot
// decide makes it false. A refusal emits KindRejected, with Delay the time
// until a token; Allow emits no KindCall.
func (l *Limiter) Allow() bool { return l.allow(l.b, l.key) }

// allow is Allow for the bucket b, or the store's key.
func (c *core) allow(b *bucket, key string) bool {
	if c.store != nil {
		d, err := c.store.Take(context.Background(), key, c.limit, 1)
		switch {
		case err != nil:
			c.emit.Emit(resilience.Event{Kind: resilience.KindRejected, Err: err})
			return false
		case !d.Allowed:
			c.emit.Emit(resilience.Event{Kind: resilience.KindRejected, Delay: d.RetryAfter})
		}
		return d.Allowed
	}
	if !c.emit.On() {
		return b.allow()
	}
	// Observed: reserve, to tell the observer how long until a token.
	if _, wait, ok := b.reserve(context.Background(), 0); !ok {
		c.emit.Emit(resilience.Event{Kind: resilience.KindRejected, Delay: wait})
		return false
	}
	return true
}

// do runs one call under the bucket lim, or under the store's key when
// lim is nil, emitting KindCall.
func (c *core) do(ctx context.Context, b *bucket, key string, next resilience.Policy, fn resilience.Func) error {
	if fn == nil {
		return resilience.ErrNilFunc
	}
	start := c.emit.Start()
	err := c.call(ctx, b, key, next, fn)
	c.emit.Call(start, err)
	return err
}

func (c *core) call(ctx context.Context, b *bucket, key string, next resilience.Policy, fn resilience.Func) error {
	a, err := c.admit(ctx, b, key)
	if err != nil {
		return err
	}
	if next == nil {
		err = fn(ctx)
	} else {
		err = next.Do(ctx, fn)
	}
	if err != nil && b != nil && errors.Is(err, resilience.ErrRejected) {
		a.b.giveBack()
	}
	return err
}

// admission is what admit decided for a call it admitted.
type admission struct {
	// The local bucket the call took its token from, which it gives back
	// to when an inner policy refuses the call.
	b *bucket
	// A Store's answer.
	dec Decision
}

// admit waits, if it may, until the limit admits one call and reports how.
// Its error is ctx.Err() when ctx ended first, or a *LimitedError for a
// refusal (admission then holds the refusing store's Decision).
func (c *core) admit(ctx context.Context, b *bucket, key string) (admission, error) {
	if err := ctx.Err(); err != nil {
		return admission{}, err
	}
	if b == nil {
		return c.admitStore(ctx, key)
	}
	a, wait, ok := b.reserve(ctx, c.maxWait)
	if !ok {
		return admission{}, c.refuse(wait)
	}
	if wait == 0 {
		return a, nil
	}
	if err := sleep(ctx, wait); err != nil {
		b.giveBack()
		return admission{}, err
	}
	return a, nil
}

// admitStore is admit with a Store.
func (c *core) admitStore(ctx context.Context, key string) (admission, error) {
	d, err := c.take(ctx, key)
	if err != nil || d.Allowed {
		return admission{dec: d}, err
	}
	if !mayWait(ctx, time.Now(), d.RetryAfter, c.maxWait) {
		return admission{dec: d}, c.refuse(d.RetryAfter)
	}
	if err := sleep(ctx, d.RetryAfter); err != nil {
		return admission{}, err
	}
	if d, err = c.take(ctx, key); err != nil || d.Allowed {
		return admission{dec: d}, err
	}
	return admission{dec: d}, c.refuse(d.RetryAfter)
}

// take asks the store for one token; a store that cannot decide is a
// refusal, unless ctx ended, which is the caller's doing.
func (c *core) take(ctx context.Context, key string) (Decision, error) {
	d, err := c.store.Take(ctx, key, c.limit, 1)
	if err == nil {
		return d, nil
	}
	if ctx.Err() != nil {
		return Decision{}, ctx.Err()
	}
	c.emit.Emit(resilience.Event{Kind: resilience.KindRejected, Err: err})
	return Decision{}, &LimitedError{Err: err}
}

// mayWait reports whether a call may wait wait from now: within maxWait,
// and ending before ctx's deadline.
func mayWait(ctx context.Context, now time.Time, wait, maxWait time.Duration) bool {
	if wait > maxWait {
		return false
	}
	dl, ok := ctx.Deadline()
	return !ok || now.Add(wait).Before(dl)
}

// refuse emits a refusal and returns its error.
func (c *core) refuse(wait time.Duration) error {
	c.emit.Emit(resilience.Event{Kind: resilience.KindRejected, Delay: wait})
	return &LimitedError{Wait: wait}
}

// sleep waits d, or until ctx ends, whose error it then returns.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
