package resiliencetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/magicmagnets/resilience"
)

// Injector is a [resilience.Policy] that imposes a [Fault] on each call it
// guards, chosen by a rule fixed at construction: [FailFirst], [AtRate],
// [Always], [Script] or [Cycle]. Put it
// innermost in a [resilience.Chain], where it stands for the dependency:
//
//	p := resilience.Chain(retry.New(retry.Config{}), resiliencetest.FailFirst(2, nil))
//
// A context made by [WithFault] overrides the rule for
// the calls made under it; such calls do not advance the rule (a script
// stays where it was, a rate draws no number).
//
// An Injector starts no goroutine, waits only on timers and the context, and
// so works inside a testing/synctest bubble. It is safe for concurrent use;
// its counters can be read at any time. The zero Injector lets every call
// through.
type Injector struct {
	mu   sync.Mutex // guards next and its state (script position, random source)
	next func() Fault

	calls  atomic.Int64
	faults atomic.Int64
}

// newInjector returns an Injector whose rule is next, called under the
// Injector's lock once per call that is not overridden by the context.
func newInjector(next func() Fault) *Injector { return &Injector{next: next} }

// Do runs fn under the fault the Injector's rule, or the context, chooses.
// A nil fn returns an error matching [resilience.ErrNilFunc] and is not
// counted.
func (in *Injector) Do(ctx context.Context, fn resilience.Func) error {
	return in.DoNext(ctx, nil, fn)
}

// DoNext implements [resilience.Nexter]: the fault applies to next.Do(ctx,
// fn) as Do's applies to fn.
func (in *Injector) DoNext(ctx context.Context, next resilience.Policy, fn resilience.Func) error {
	if fn == nil {
		return resilience.ErrNilFunc
	}
	in.calls.Add(1)
	f, ok := faultFrom(ctx)
	if !ok {
		f = in.decide()
	}
	if f.kind != kindPass {
		in.faults.Add(1)
	}
	return f.apply(ctx, next, fn)
}

func (in *Injector) decide() Fault {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.next == nil {
		return Pass()
	}
	return in.next()
}

// Calls returns how many calls the Injector has seen, overridden ones
// included.
func (in *Injector) Calls() int { return int(in.calls.Load()) }

// Injected returns how many of those calls got a fault other than [Pass].
func (in *Injector) Injected() int { return int(in.faults.Load()) }

// Always imposes f on every call: Always(Delay(d)) is a slow dependency,
// Always(Panic(v)) one that panics.
func Always(f Fault) *Injector { return newInjector(func() Fault { return f }) }

// FailFirst fails the first n calls with err (nil means [ErrInjected]) and
// lets every later call through.
func FailFirst(n int, err error) *Injector {
	fail := Fail(err)
	return newInjector(func() Fault {
		if n <= 0 {
			return Pass()
		}
		n--
		return fail
	})
}

// AtRate imposes f on each call with probability rate (0 never, 1 always):
// AtRate(0.3, seed, Fail(nil)) fails 30% of calls. It draws from a
// pseudo-random source seeded with seed: the same seed gives the same
// sequence of outcomes for the same sequence of calls. Concurrent calls
// draw in the order they reach the Injector. A rate outside [0, 1] panics.
func AtRate(rate float64, seed uint64, f Fault) *Injector {
	if !(rate >= 0 && rate <= 1) {
		panic(fmt.Sprintf("resiliencetest: rate %v outside [0, 1]", rate))
	}
	src := rand.New(rand.NewPCG(seed, seed))
	return newInjector(func() Fault {
		if src.Float64() < rate {
			return f
		}
		return Pass()
	})
}

// Script imposes faults on the calls in order, one per call: the first call
// gets faults[0], the second faults[1], and so on. Once the script is used
// up, every later call passes. For a script that repeats, use [Cycle]; to
// keep failing after the script, end it with the failures you need or chain
// a second Injector.
func Script(faults ...Fault) *Injector {
	faults = append([]Fault(nil), faults...)
	i := 0
	return newInjector(func() Fault {
		if i >= len(faults) {
			return Pass()
		}
		i++
		return faults[i-1]
	})
}

// Cycle imposes faults on the calls in order and starts over after the
// last: Cycle(Fail(nil), Pass()) fails every other call. With no faults
// every call passes.
func Cycle(faults ...Fault) *Injector {
	faults = append([]Fault(nil), faults...)
	i := 0
	return newInjector(func() Fault {
		if len(faults) == 0 {
			return Pass()
		}
		f := faults[i%len(faults)]
		i = (i + 1) % len(faults)
		return f
	})
}
