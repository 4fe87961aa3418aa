package fallback

import (
	"context"
	"errors"
	"fmt"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/internal/callerr"
	"github.com/magicmagnets/resilience/internal/emit"
)

// Config configures a [Policy]. Every field but Fallback may be left zero.
type Config struct {
	// Name is copied into the Name of every event. Zero means no name.
	Name string

	// Fallback runs in place of the failed call and is given the call's
	// error; what it returns is what Do returns. It is required: there is
	// no default, and New panics without it. It may return nil (the failure
	// is absorbed), its own error, or err itself.
	Fallback func(ctx context.Context, err error) error

	// FallbackIf reports whether the fallback answers a failure: it is
	// called with every non-nil error but the caller's own cancellation,
	// which is never answered. Zero means every such error is answered.
	FallbackIf func(err error) bool

	// Observer receives the policy's events: KindCall for every call and
	// KindFallback each time the fallback runs (see the package doc). Zero
	// means no events, at no cost.
	Observer resilience.Observer
}

// Validate reports what [New] would panic on: an error if c.Fallback is
// nil, nil otherwise.
func (c Config) Validate() error {
	if c.Fallback == nil {
		return errors.New("fallback: Config.Fallback is nil")
	}
	return nil
}

// Policy runs a fallback function when the guarded call fails. It is a
// [resilience.Policy]; create one with [New]. A Policy is safe for
// concurrent use and keeps no state between calls.
type Policy struct {
	handler
	fallback func(ctx context.Context, err error) error
}

// New returns a Policy configured by c. It panics with the message of
// c.Validate's error if c is invalid (c.Fallback is nil).
func New(c Config) *Policy {
	if err := c.Validate(); err != nil {
		panic(err.Error())
	}
	return &Policy{
		handler:  newHandler(c.Name, c.FallbackIf, c.Observer),
		fallback: c.Fallback,
	}
}

// Do runs fn. If fn fails with an error the policy answers (see
// Config.FallbackIf), Do emits a KindFallback event and returns what the
// fallback returns; otherwise it returns fn's result. A nil fn returns
// [resilience.ErrNilFunc].
func (p *Policy) Do(ctx context.Context, fn resilience.Func) error {
	return p.DoNext(ctx, nil, fn)
}

// DoNext implements [resilience.Nexter].
func (p *Policy) DoNext(ctx context.Context, next resilience.Policy, fn resilience.Func) error {
	if fn == nil {
		return resilience.ErrNilFunc
	}
	var err error
	if !p.em.On() {
		if next == nil {
			err = fn(ctx)
		} else {
			err = next.Do(ctx, fn)
		}
		if err == nil || !p.answers(ctx, err) {
			return err
		}
		return p.fallback(ctx, err)
	}
	// Observed: the same, with its events. The path above is kept apart so
	// that a policy without an observer pays a single check for them.
	start := p.em.Start()
	if next == nil {
		err = fn(ctx)
	} else {
		err = next.Do(ctx, fn)
	}
	if err != nil && p.answers(ctx, err) {
		p.used(err)
		err = p.fallback(ctx, err)
	}
	p.em.Call(start, err)
	return err
}

// Error returns a fallback function that replaces a failure with err, for
// [Config.Fallback]. The error it returns matches both err and the original
// error with errors.Is, so the cause stays visible:
//
//	fallback.New(fallback.Config{Fallback: fallback.Error(ErrQuotesUnavailable)})
func Error(err error) func(ctx context.Context, cause error) error {
	return func(_ context.Context, cause error) error {
		return fmt.Errorf("%w: %w", err, cause)
	}
}

// handler holds what every fallback form shares: the failure predicate and
// the event emitter.
type handler struct {
	fallbackIf func(error) bool
	em         emit.Emitter
}

func newHandler(name string, fallbackIf func(error) bool, o resilience.Observer) handler {
	return handler{fallbackIf: fallbackIf, em: emit.Emitter{Policy: "fallback", Name: name, Observer: o}}
}

// answers reports whether err, returned by a call made with ctx, is a
// failure the fallback should answer for.
func (h *handler) answers(ctx context.Context, err error) bool {
	if callerr.Canceled(ctx, err) {
		return false
	}
	return h.fallbackIf == nil || h.fallbackIf(err)
}

// used reports a use of the fallback, in place of err, to the observer.
func (h *handler) used(err error) {
	h.em.Emit(resilience.Event{Kind: resilience.KindFallback, Err: err})
}
