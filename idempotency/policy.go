package idempotency

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/magicmagnets/resilience"
)

// ErrNoKey is returned by a [Policy] configured with RequireKey when the
// context carries no key.
var ErrNoKey = errors.New("idempotency: no key in context")

// Config configures a [Policy]. The zero value of every field means the
// documented default.
type Config struct {
	// Lease, Retention and Wait mean what they mean in [Options]
	// (defaults 30s, 24h, and no waiting).
	Lease     time.Duration
	Retention time.Duration
	Wait      bool
	// RequireKey makes a call whose context carries no key (see [WithKey])
	// fail with ErrNoKey. By default such a call runs unprotected.
	RequireKey bool
	// Name is copied into every Event.
	Name string
	// Observer receives the events listed in [Options]. Nil means none.
	Observer resilience.Observer
}

// Policy is a [resilience.Policy] that runs each call at most once per key,
// the key coming from the call's context ([WithKey]). Operations guarded by
// it return only an error: a replayed success returns nil without running
// the operation, a replayed permanent error returns a [*RecordedError]. For
// operations that return a value use [Do].
//
// A Policy is safe for concurrent use. It chains with the other policies:
// inside a retry policy every attempt claims the key again (an ordinary
// error released it), outside one the key is held across all attempts.
type Policy struct {
	store      Store
	opts       Options
	requireKey bool
}

// NewPolicy returns a Policy over store. It panics if store is nil or a
// duration in c is negative.
func NewPolicy(store Store, c Config) *Policy {
	if store == nil {
		panic("idempotency: NewPolicy: nil store")
	}
	if c.Validate() != nil {
		panic(fmt.Sprintf("idempotency: NewPolicy: negative duration (lease %v, retention %v)", c.Lease, c.Retention))
	}
	return &Policy{
		store:      store,
		requireKey: c.RequireKey,
		opts: Options{
			Lease: c.Lease, Retention: c.Retention, Wait: c.Wait,
			Codec: noValue{}, Name: c.Name, Observer: c.Observer,
		},
	}
}

// Do runs fn at most once for the key in ctx; see [Do] for what is recorded
// and replayed. A nil fn returns an error matching resilience.ErrNilFunc.
func (p *Policy) Do(ctx context.Context, fn resilience.Func) error {
	return p.DoNext(ctx, nil, fn)
}

// DoNext implements [resilience.Nexter].
func (p *Policy) DoNext(ctx context.Context, next resilience.Policy, fn resilience.Func) error {
	if fn == nil {
		return resilience.ErrNilFunc
	}
	key, ok := KeyFrom(ctx)
	switch {
	case ok:
		_, _, err := Do(ctx, p.store, key, func(ctx context.Context) (struct{}, error) {
			if next == nil {
				return struct{}{}, fn(ctx)
			}
			return struct{}{}, next.Do(ctx, fn)
		}, p.opts)
		return err
	case p.requireKey:
		return ErrNoKey
	case next == nil:
		return fn(ctx)
	default:
		return next.Do(ctx, fn)
	}
}
