package fallback

import (
	"context"
	"errors"
	"fmt"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/internal/callerr"
)

// Config configures a [Policy]. Every field but Fallback may be left zero.
type Config struct {
	// Name is copied into the Name of every event. Zero: empty.
	Name string

	// Fallback runs in place of the failed call and is given the call's
	// error; what it returns is what Do returns. It is required. It may
	// return nil (the failure is absorbed), its own error, or err itself.
	Fallback func(ctx context.Context, err error) error

	// If reports which failures the fallback handles. Zero: every error.
	// The caller's own cancellation is never handled, whatever If says.
	If func(err error) bool

	// Observer receives a resilience.KindFallback event each time the
	// fallback runs. Zero: no events.
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
		handler:  handler{name: c.Name, accept: c.If, observer: c.Observer},
		fallback: c.Fallback,
	}
}

// Do runs fn. If fn fails with an error the policy handles, Do emits an
// event and returns what the fallback returns; otherwise it returns fn's
// result. A nil fn returns [resilience.ErrNilFunc].
func (p *Policy) Do(ctx context.Context, fn resilience.Func) error {
	return p.DoNext(ctx, nil, fn)
}

// DoNext implements [resilience.Nexter].
func (p *Policy) DoNext(ctx context.Context, next resilience.Policy, fn resilience.Func) error {
	if fn == nil {
		return resilience.ErrNilFunc
	}
	var err error
	if next == nil {
		err = fn(ctx)
	} else {
		err = next.Do(ctx, fn)
	}
	if err == nil || !p.handles(ctx, err) {
		return err
	}
	p.used(err)
	return p.fallback(ctx, err)
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
	name     string
	accept   func(error) bool
	observer resilience.Observer
}

// handles reports whether err, returned by a call made with ctx, is a
// failure the fallback should answer for.
func (h *handler) handles(ctx context.Context, err error) bool {
	if callerr.Canceled(ctx, err) {
		return false
	}
	return h.accept == nil || h.accept(err)
}

// used reports a use of the fallback to the observer.
func (h *handler) used(err error) {
	if h.observer == nil {
		return
	}
	h.observer.Observe(resilience.Event{Policy: "fallback", Name: h.name, Kind: resilience.KindFallback, Err: err})
}
