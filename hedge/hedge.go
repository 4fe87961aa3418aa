package hedge

import (
	"cmp"
	"context"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/internal/emit"
	"github.com/magicmagnets/resilience/internal/quantile"
	"github.com/magicmagnets/resilience/retry"
)

// samples is how many recent latencies a Quantile delay is taken from.
const samples = 1000

// Policy hedges calls: see the package documentation. Create one with
// [New]; the zero value is not usable. It is safe for concurrent use.
type Policy struct {
	delay     time.Duration
	minDelay  time.Duration
	maxHedges int
	budget    *retry.Budget
	retryIf   func(error) bool
	lat       *quantile.Ring // nil without Quantile
	emit      emit.Emitter
}

// New returns a hedge policy. It starts no goroutine. It panics with a
// "hedge:" message on a configuration [Config.Validate] rejects.
func New(c Config) *Policy {
	if err := c.Validate(); err != nil {
		panic(err.Error())
	}
	p := &Policy{
		delay:     c.Delay,
		minDelay:  c.MinDelay,
		maxHedges: min(cmp.Or(c.MaxHedges, 1), MaxHedgesCap),
		budget:    c.Budget,
		retryIf:   c.RetryIf,
		emit:      emit.Emitter{Policy: "hedge", Name: c.Name, Observer: c.Observer},
	}
	if c.Quantile > 0 {
		p.lat = quantile.New(c.Quantile, samples)
		if p.delay == 0 {
			p.delay = c.MinDelay
		}
	}
	return p
}

// Delay returns the wait before the next hedge as a call starting now
// would use it: the fixed Delay, or with Quantile the current estimate,
// never below MinDelay.
func (p *Policy) Delay() time.Duration {
	if p.lat == nil {
		return p.delay
	}
	if q, ok := p.lat.Quantile(); ok {
		return max(q, p.minDelay)
	}
	return p.delay
}

// MaxHedges returns how many attempts a call may start after the first,
// after the default and the cap.
func (p *Policy) MaxHedges() int { return p.maxHedges }

type noHedgesKey struct{}

// WithoutHedges returns a context under which every hedge policy runs its
// call as a single attempt, under ctx itself: for a call that must not be
// sent twice at once (a POST, a PUT). resiliencehttp marks every request
// but GET, HEAD and OPTIONS so.
func WithoutHedges(ctx context.Context) context.Context {
	return context.WithValue(ctx, noHedgesKey{}, true)
}

// Hedged reports whether hedge policies may hedge a call under ctx: false
// under [WithoutHedges].
func Hedged(ctx context.Context) bool {
	return ctx.Value(noHedgesKey{}) == nil
}

// Do runs fn, and starts another attempt each time the delay passes with no
// attempt finished, up to MaxHedges more, each under its own context
// derived from ctx. It returns:
//   - nil when an attempt succeeds: the first to succeed wins, every other
//     attempt's context is cancelled, and [resilience.DoValue] returns the
//     winner's value;
//   - an attempt's error, unchanged, when it is permanent
//     ([resilience.IsPermanent]) or RetryIf rejects it: the other attempts
//     are cancelled;
//   - the failure that came last when every attempt failed;
//   - the error of an attempt that failed because ctx ended (matching
//     ctx's error) when the caller's context ends;
//   - ctx's error, without calling fn, when ctx is already done.
//
// Do returns as soon as the call is decided, or the caller's context ends
// (with its error, whether or not the attempts honour it), and cancels the
// attempts still running; an attempt that ignores the cancel ends when its
// fn does, after Do returned, and its result is dropped. A panic of an
// attempt, of RetryIf or of the Observer before the call is decided, in
// whichever goroutine, is raised again in the caller's goroutine; a loser's
// panic after it goes on in the loser's goroutine, as a panic in any
// goroutine does. Under [WithoutHedges] fn runs once, under ctx, in the
// caller's goroutine. A nil fn returns resilience.ErrNilFunc.
func (p *Policy) Do(ctx context.Context, fn resilience.Func) error {
	return p.DoNext(ctx, nil, fn)
}

// DoNext implements [resilience.Nexter]: it is Do with each attempt
// running next.Do(ctx, fn) rather than fn(ctx).
func (p *Policy) DoNext(ctx context.Context, next resilience.Policy, fn resilience.Func) error {
	if fn == nil {
		return resilience.ErrNilFunc
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var start time.Time
	if p.lat != nil || p.emit.On() {
		start = time.Now()
	}
	if p.budget != nil {
		p.budget.Request()
	}
	attempts, err := 1, error(nil)
	if Hedged(ctx) {
		attempts, err = p.race(ctx, next, fn)
	} else {
		err = call(ctx, next, fn)
	}
	if err == nil && p.lat != nil {
		p.lat.Add(time.Since(start))
	}
	if p.emit.On() {
		p.emit.Emit(resilience.Event{Kind: resilience.KindCall, Attempt: attempts, Duration: time.Since(start), Err: err})
	}
	return err
}

// call runs fn under next, or fn alone when next is nil.
func call(ctx context.Context, next resilience.Policy, fn resilience.Func) error {
	if next == nil {
		return fn(ctx)
	}
	return next.Do(ctx, fn)
}
