package adaptive

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/internal/callerr"
	"github.com/magicmagnets/resilience/internal/emit"
	"github.com/magicmagnets/resilience/internal/limitalg"
)

// ThrottlerConfig configures a [Throttler]. The zero value of every field
// means its documented default, so ThrottlerConfig{} is the SRE book's
// throttle with K 2 over the last two minutes.
type ThrottlerConfig struct {
	// Name is copied into every Event the throttler emits. Zero means no name.
	Name string

	// K is how many requests per accepted one the throttler lets through
	// before it starts rejecting: with K 2 the backend sees at most about
	// twice the load it accepts. At least 1. Zero means 2, the SRE book's
	// choice.
	K float64

	// Window is how far back requests and accepts are counted, kept in 60
	// buckets of Window/60 each (so the window slides in steps of
	// Window/60). At least 60ns. Zero means 2 minutes (buckets of 2s).
	Window time.Duration

	// MinRequests is how many requests the window must hold before the
	// throttler rejects anything. Zero means 20; it must not be negative.
	MinRequests int

	// MaxRejectRate caps the rejection probability, in (0, 1], so that some
	// requests always reach the backend and can see it recover. Zero means
	// 0.9.
	MaxRejectRate float64

	// IsOverload reports whether an attempt's error means the backend
	// refused it for overload: such an attempt counts as a request but not
	// an accept. Every other outcome, success or error, is an accept. Nil
	// means an error matching context.DeadlineExceeded (an attempt that
	// timed out; [Throttler.Do] has already set the caller's own deadline
	// apart) or [resilience.ErrRejected] (a refusal by a policy inside the
	// throttler, or one that came back from a downstream service), or an
	// error whose tree holds one with a method Overload() bool, the first
	// of them (in errors.As order) returning true — as resiliencehttp's
	// StatusError does for 429 and 503 (resiliencehttp.IsOverload makes
	// the same test, timeouts aside).
	IsOverload func(error) bool

	// Rand decides each request against the rejection probability: one
	// draw per request while the probability is above zero (none while it
	// is zero), outside the throttler's lock; a request is rejected when
	// the draw is below the probability. Nil means math/rand/v2's global
	// source. A Rand shared by concurrent calls must be safe for concurrent
	// use (a seeded *rand.Rand is not).
	Rand backoff.Rand

	// Observer receives the throttler's events. Nil means none.
	Observer resilience.Observer
}

// windowBuckets is how many buckets a throttler's window is kept in.
const windowBuckets = 60

func (c ThrottlerConfig) withDefaults() ThrottlerConfig {
	if c.K == 0 {
		c.K = 2
	}
	if c.Window == 0 {
		c.Window = 2 * time.Minute
	}
	if c.MinRequests == 0 {
		c.MinRequests = 20
	}
	if c.MaxRejectRate == 0 {
		c.MaxRejectRate = 0.9
	}
	return c
}

// Validate reports what [NewThrottler] would panic on: a K below 1 (or
// NaN), a Window below 60ns, a negative MinRequests, or a MaxRejectRate
// outside (0, 1].
func (c ThrottlerConfig) Validate() error {
	c = c.withDefaults()
	var errs []error
	if !(c.K >= 1) || math.IsInf(c.K, 1) {
		errs = append(errs, fmt.Errorf("adaptive: K %v must be at least 1 and finite", c.K))
	}
	if c.Window < windowBuckets {
		errs = append(errs, fmt.Errorf("adaptive: Window %v must be at least %v", c.Window, time.Duration(windowBuckets)))
	}
	if c.MinRequests < 0 {
		errs = append(errs, fmt.Errorf("adaptive: MinRequests %d must not be negative", c.MinRequests))
	}
	if !(c.MaxRejectRate > 0 && c.MaxRejectRate <= 1) {
		errs = append(errs, fmt.Errorf("adaptive: MaxRejectRate %v must be in (0, 1]", c.MaxRejectRate))
	}
	return errors.Join(errs...)
}

// Throttler is the client-side throttle of the Google SRE book ("Handling
// Overload"): it counts, over a sliding window, the requests the client
// made and those the backend accepted, and rejects a request locally, before
// it is sent, with probability
//
//	min(MaxRejectRate, max(0, (requests − K·accepts) / (requests + 1)))
//
// (0 while the window holds fewer than MinRequests requests). A request it
// rejects still counts as a request, so the probability stays up while the
// backend keeps refusing and falls as soon as the requests that get through
// are accepted again. Make one with [NewThrottler]; the zero value is not
// usable. A Throttler is safe for concurrent use and starts no goroutine;
// its window follows the time package's clock, so inside a
// testing/synctest bubble the bubble's clock slides it.
type Throttler struct {
	em         emit.Emitter
	isOverload func(error) bool
	rand       backoff.Rand
	epoch      time.Time // the window's times are time.Since(epoch)

	mu sync.Mutex // guards t
	t  *limitalg.Throttle
}

var _ resilience.Nexter = (*Throttler)(nil)

// NewThrottler returns a throttler with an empty window, configured by c.
// It panics with a message starting "adaptive: " on what
// [ThrottlerConfig.Validate] reports.
func NewThrottler(c ThrottlerConfig) *Throttler {
	if err := c.Validate(); err != nil {
		panic(err.Error())
	}
	c = c.withDefaults()
	t := &Throttler{
		em:         emit.Emitter{Policy: "adaptive", Name: c.Name, Observer: c.Observer},
		isOverload: c.IsOverload,
		rand:       c.Rand,
		epoch:      time.Now(),
		t: limitalg.NewThrottle(limitalg.ThrottleConfig{
			K:             c.K,
			MinRequests:   int64(c.MinRequests),
			MaxRejectRate: c.MaxRejectRate,
			BucketWidth:   c.Window / windowBuckets,
			Buckets:       windowBuckets,
		}),
	}
	if t.isOverload == nil {
		t.isOverload = overloaded
	}
	return t
}

// RejectProbability returns the probability with which a request would be
// rejected now.
func (t *Throttler) RejectProbability() float64 {
	now := time.Since(t.epoch)
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.t.Probability(now)
}

// ThrottlePermit is a request a [Throttler] let through, from
// [Throttler.Allow]. End it with exactly one [ThrottlePermit.Done] or
// [ThrottlePermit.Ignore]. The zero ThrottlePermit, which a refusal
// returns, ends as a no-op.
type ThrottlePermit struct {
	t     *Throttler
	start time.Time // zero unless observed
}

// Allow decides a request: it lets it through, or rejects it with an error
// matching [ErrThrottled] and [resilience.ErrRejected] and counts it as a
// request that was not accepted. Neither it nor the permit's end
// allocates.
func (t *Throttler) Allow() (ThrottlePermit, error) {
	now := time.Since(t.epoch)
	t.mu.Lock()
	p := t.t.Probability(now)
	t.mu.Unlock()
	// As limitalg.Throttle.Reject, but the draw is made only when it can
	// reject, and outside the lock, since Rand may be the caller's.
	if p == 0 || t.draw() >= p {
		return ThrottlePermit{t: t, start: t.em.Start()}, nil
	}
	t.mu.Lock()
	t.t.Record(now, false)
	t.mu.Unlock()
	if t.em.On() {
		t.em.Emit(resilience.Event{Kind: resilience.KindRejected, Err: ErrThrottled})
		t.em.Emit(resilience.Event{Kind: resilience.KindCall, Err: ErrThrottled})
	}
	return ThrottlePermit{}, ErrThrottled
}

func (t *Throttler) draw() float64 {
	if t.rand == nil {
		return rand.Float64()
	}
	return t.rand.Float64()
}

// Done counts the request with its outcome err: a request, and an accept
// unless ThrottlerConfig.IsOverload(err), at the time it ended: the window
// holds the outcomes that came in during its span. It emits KindCall with
// err.
//
// Done does not tell the caller's own cancellation apart: a caller that
// gave up should call [ThrottlePermit.Ignore] instead, as [Throttler.Do]
// does.
func (p ThrottlePermit) Done(err error) {
	if p.t == nil {
		return
	}
	accepted := err == nil || !p.t.isOverload(err)
	now := time.Since(p.t.epoch)
	p.t.mu.Lock()
	p.t.t.Record(now, accepted)
	p.t.mu.Unlock()
	p.t.em.Call(p.start, err)
}

// Ignore ends the request without counting it, neither as a request nor as
// an accept: its outcome says nothing about the backend, as when the
// caller gave up. It emits no event.
func (p ThrottlePermit) Ignore() {}

// Do runs fn unless the throttler rejects it, and counts its outcome.
//
// A rejected request returns an error matching [ErrThrottled] and
// [resilience.ErrRejected] without running fn; a context already done
// returns ctx.Err(), runs nothing and counts nothing; a nil fn returns an
// error matching [resilience.ErrNilFunc]. Otherwise Do returns fn's error
// unchanged and counts it:
//   - not at all when it is the end of the caller's own context (ctx is
//     done and the error matches ctx.Err()): the caller gave up, which
//     says nothing about the backend;
//   - as a request, and an accept unless ThrottlerConfig.IsOverload says
//     the backend refused it.
//
// If fn panics, nothing is counted and the panic goes on. With an
// Observer, every call, let through or not, emits KindCall last.
func (t *Throttler) Do(ctx context.Context, fn resilience.Func) error {
	return t.DoNext(ctx, nil, fn)
}

// DoNext implements [resilience.Nexter].
func (t *Throttler) DoNext(ctx context.Context, next resilience.Policy, fn resilience.Func) error {
	if fn == nil {
		return resilience.ErrNilFunc
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := t.Allow()
	if err != nil {
		return err
	}
	if next == nil {
		err = fn(ctx)
	} else {
		err = next.Do(ctx, fn)
	}
	if err != nil && ctx.Err() != nil && callerr.Ended(ctx, err) {
		t.em.Call(p.start, err)
		return err
	}
	p.Done(err)
	return err
}
