package resilience_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/adaptive"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/bulkhead"
	"github.com/magicmagnets/resilience/fallback"
	"github.com/magicmagnets/resilience/hedge"
	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/ratelimit"
	"github.com/magicmagnets/resilience/resiliencetest"
	"github.com/magicmagnets/resilience/retry"
	"github.com/magicmagnets/resilience/timeout"
)

// moduleSubject is one policy of the module, built fresh for every run so
// that no state carries over from one path to the other.
type moduleSubject struct {
	name string
	// make builds the policy, sending its events to obs. counters, if not
	// nil, reports what the policy counted itself.
	make func(obs resilience.Observer) (p resilience.Policy, counters func() any)
	ctx  func(context.Context) context.Context // nil: the context as it is
}

func moduleSubjects() []moduleSubject {
	var errDegraded = errors.New("degraded")
	injector := func(in *resiliencetest.Injector) func(resilience.Observer) (resilience.Policy, func() any) {
		return func(resilience.Observer) (resilience.Policy, func() any) {
			return in, func() any { return [2]int{in.Calls(), in.Injected()} }
		}
	}
	return []moduleSubject{
		{name: "retry", make: func(obs resilience.Observer) (resilience.Policy, func() any) {
			return retry.New(retry.Config{MaxAttempts: 3, Backoff: backoff.Constant(10 * time.Millisecond), Observer: obs}), nil
		}},
		{name: "breaker", make: func(obs resilience.Observer) (resilience.Policy, func() any) {
			b := breaker.New(breaker.Config{Name: "b", ConsecutiveFailures: 2, OpenFor: time.Second, Observer: obs})
			return b, func() any { return b.State() }
		}},
		{name: "bulkhead", make: func(obs resilience.Observer) (resilience.Policy, func() any) {
			b := bulkhead.New(bulkhead.Config{Name: "bh", MaxConcurrent: 1, Observer: obs})
			return b, func() any { return b.Metrics() }
		}},
		{name: "adaptive limiter", make: func(obs resilience.Observer) (resilience.Policy, func() any) {
			l := adaptive.NewLimiter(adaptive.LimiterConfig{Name: "al", Algorithm: adaptive.AIMD, InitialLimit: 2, MinLimit: 1, Observer: obs})
			return l, func() any { return [2]int{l.Limit(), l.InFlight()} }
		}},
		{name: "adaptive throttler", make: func(obs resilience.Observer) (resilience.Policy, func() any) {
			th := adaptive.NewThrottler(adaptive.ThrottlerConfig{Name: "at", MinRequests: 1, Rand: rand.New(rand.NewPCG(1, 2)), Observer: obs})
			return th, func() any { return th.RejectProbability() }
		}},
		{name: "hedge", make: func(obs resilience.Observer) (resilience.Policy, func() any) {
			// A delay longer than any operation here runs, so attempts never
			// overlap (the counters are not atomic): a failure starts the
			// hedge at once, after the attempt it follows.
			return hedge.New(hedge.Config{Name: "h", Delay: time.Hour, Observer: obs}), nil
		}},
		{name: "ratelimit", make: func(obs resilience.Observer) (resilience.Policy, func() any) {
			return ratelimit.New(ratelimit.Config{Name: "r", Rate: 10, Burst: 2, MaxWait: 50 * time.Millisecond, Observer: obs}), nil
		}},
		{name: "timeout", make: func(obs resilience.Observer) (resilience.Policy, func() any) {
			return timeout.New(50*time.Millisecond).WithObserver("t", obs), nil
		}},
		{name: "fallback", make: func(obs resilience.Observer) (resilience.Policy, func() any) {
			return fallback.New(fallback.Config{Name: "f", Fallback: fallback.Error(errDegraded), Observer: obs}), nil
		}},
		{
			name: "idempotency",
			make: func(obs resilience.Observer) (resilience.Policy, func() any) {
				store := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
				return idempotency.NewPolicy(store, idempotency.Config{Name: "i", Observer: obs}), func() any { return store.Len() }
			},
			ctx: func(ctx context.Context) context.Context { return idempotency.WithKey(ctx, "order-1") },
		},
		{name: "resiliencetest.FailFirst", make: func(obs resilience.Observer) (resilience.Policy, func() any) {
			return injector(resiliencetest.FailFirst(1, nil))(obs)
		}},
		{name: "resiliencetest.Script", make: func(obs resilience.Observer) (resilience.Policy, func() any) {
			return injector(resiliencetest.Script(resiliencetest.Lose(nil), resiliencetest.Delay(20*time.Millisecond), resiliencetest.Pass()))(obs)
		}},
		{name: "resiliencetest.Panic", make: func(obs resilience.Observer) (resilience.Policy, func() any) {
			return injector(resiliencetest.Always(resiliencetest.Panic("injected")))(obs)
		}},
		{name: "resiliencetest.Recorder", make: func(resilience.Observer) (resilience.Policy, func() any) {
			rec := new(resiliencetest.Recorder)
			return rec, func() any { return rec.Attempts() }
		}},
	}
}

// operation is what the guarded call does, in terms of how many times it
// has been called before.
type operation struct {
	name string
	run  func(ctx context.Context, calls int) error
}

var errOperation = errors.New("operation failed")

func operations() []operation {
	return []operation{
		{"succeeds", func(context.Context, int) error { return nil }},
		{"fails", func(context.Context, int) error { return errOperation }},
		{"fails twice", func(_ context.Context, calls int) error {
			if calls < 2 {
				return errOperation
			}
			return nil
		}},
		{"hangs until its context ends", func(ctx context.Context, _ int) error {
			t := time.NewTimer(time.Minute)
			defer t.Stop()
			select {
			case <-t.C:
				return errOperation
			case <-ctx.Done():
				return ctx.Err()
			}
		}},
		{"panics", func(context.Context, int) error { panic("boom") }},
	}
}

// outcome is everything a run can be told apart by.
type outcome struct {
	Results  []string // per call: its error, or what it panicked with
	Calls    int      // calls of the operation
	Inner    int      // calls of the policy inside the subject
	Events   []string
	Elapsed  time.Duration
	Counters any
}

// inner stands for the rest of a chain: a policy that has no DoNext and
// counts its calls.
func inner(calls *int) resilience.Policy {
	return resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error {
		*calls++
		return fn(ctx)
	})
}

// runSubject calls the subject three times in a row, before and after
// state it keeps (an open breaker, a recorded key), once more with a
// context that is already cancelled, and reports what happened. chained
// picks the path: Chain(p, inner), or p around a closure that calls inner.
func runSubject(s moduleSubject, op operation, chained bool) outcome {
	var o outcome
	rec := new(resiliencetest.Recorder)
	p, counters := s.make(rec)
	rest := inner(&o.Inner)
	do := func(ctx context.Context, fn resilience.Func) error {
		return p.Do(ctx, func(ctx context.Context) error { return rest.Do(ctx, fn) })
	}
	if chained {
		do = resilience.Chain(p, rest).Do
	}
	fn := func(ctx context.Context) error {
		o.Calls++
		return op.run(ctx, o.Calls-1)
	}
	call := func(ctx context.Context) (result string) {
		defer func() {
			if v := recover(); v != nil {
				result = fmt.Sprintf("panic: %v", v)
			}
		}()
		if s.ctx != nil {
			ctx = s.ctx(ctx)
		}
		return fmt.Sprint(do(ctx, fn))
	}

	start := time.Now()
	for range 3 {
		o.Results = append(o.Results, call(context.Background()))
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	o.Results = append(o.Results, call(cancelled))
	o.Elapsed = time.Since(start)

	for _, e := range rec.Events() {
		o.Events = append(o.Events, fmt.Sprintf("%+v", e))
	}
	if counters != nil {
		o.Counters = counters()
	}
	return o
}

// TestEveryPolicyBehavesTheSameThroughChainsFastPath runs every policy of
// the module through both of Chain's paths, DoNext with the rest of the
// chain and Do with a closure, under operations that succeed, fail, recover,
// hang and panic: the errors, the calls, the events and the time taken must
// be the same.
func TestEveryPolicyBehavesTheSameThroughChainsFastPath(t *testing.T) {
	for _, s := range moduleSubjects() {
		for _, op := range operations() {
			t.Run(s.name+"/"+op.name, func(t *testing.T) {
				// Each path in a bubble of its own, so that both start at
				// the same instant.
				var viaClosure, viaNext outcome
				synctest.Test(t, func(t *testing.T) {
					p, _ := s.make(nil)
					require.Implements(t, (*resilience.Nexter)(nil), p, "the fast path is taken")
					viaClosure = runSubject(s, op, false)
				})
				synctest.Test(t, func(t *testing.T) { viaNext = runSubject(s, op, true) })

				assert.Equal(t, viaClosure, viaNext)
			})
		}
	}
}
