// Package backoff computes how long to wait before retrying.
//
// A strategy is an immutable value, safe to share between goroutines: it
// keeps no hidden state, and everything it needs arrives as arguments (the
// attempt number, and the previous delay for decorrelated jitter). Nothing
// here sleeps or reads the clock.
//
// Attempt numbers count retries from 1: Delay(1, 0) is the wait after the
// first failure, before the second call. Every delay lies in [0, cap] for
// every attempt number up to math.MaxInt and every base and cap up to the
// largest time.Duration, and equals its documented formula: Delay never
// overflows, goes negative or panics, and a zero base gives 0 at every
// attempt.
//
// The constructors panic, with a "backoff:" message, on arguments that can
// never be right: a negative duration, a cap below the base (which would
// silently turn every delay into the cap, or into zero: a hot retry loop),
// a growth factor below 1 or not finite, a jitter fraction outside [0, 1].
package backoff

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// Strategy returns the delay before retry number attempt (1-based), given the
// delay it returned for the previous retry (0 before the first). A Strategy
// must be safe for concurrent use.
type Strategy interface {
	Delay(attempt int, prev time.Duration) time.Duration
}

// StrategyFunc adapts a function to a [Strategy].
type StrategyFunc func(attempt int, prev time.Duration) time.Duration

// Delay calls f(attempt, prev).
func (f StrategyFunc) Delay(attempt int, prev time.Duration) time.Duration { return f(attempt, prev) }

// Rand is a source of uniform random numbers in [0, 1). *rand.Rand from
// math/rand/v2 satisfies it. A Rand shared by goroutines must be safe for
// concurrent use; a seeded *rand.Rand is not, so give each goroutine its own
// seeded strategy (WithRand) in deterministic tests, or use
// [Backoff.WithSeed], whose seeded source is safe to share.
type Rand interface {
	Float64() float64
}

// MaxDuration is the largest time.Duration, the cap of a strategy built
// without one.
const MaxDuration = time.Duration(math.MaxInt64)

type shape uint8

const (
	constant shape = iota
	linear
	exponential
)

// Backoff is a delay strategy: a shape (constant, linear or exponential), a
// cap, a jitter mode and a random source. The zero value waits 0 every time.
// Build one with [Constant], [Linear] or [Exponential], then refine it with
// [Backoff.WithJitter] and [Backoff.WithRand]; each returns a modified copy.
type Backoff struct {
	shape  shape
	base   time.Duration
	step   time.Duration
	factor float64
	cap    time.Duration
	jitter Jitter
	rand   Rand
}

// Constant waits d before every retry. It has no cap of its own (its cap is
// [MaxDuration]), so Proportional jitter spreads it both ways. It panics if d
// is negative.
func Constant(d time.Duration) Backoff {
	checkNonNegative("Constant", "delay", d)
	return Backoff{shape: constant, base: d, cap: MaxDuration}
}

// Linear waits min(cap, base + step·(attempt−1)). It panics if a duration is
// negative or cap is below base.
func Linear(base, step, cap time.Duration) Backoff {
	checkNonNegative("Linear", "base", base)
	checkNonNegative("Linear", "step", step)
	checkNonNegative("Linear", "cap", cap)
	checkCap("Linear", base, cap)
	return Backoff{shape: linear, base: base, step: step, cap: cap}
}

// Exponential waits min(cap, base·factor^(attempt−1)): base before the first
// retry, then growing by factor. A zero base waits 0 at every attempt.
//
// AWS's "Exponential Backoff and Jitter" study sleeps base·2^attempt with
// its attempt counting from 1, so its first sleep is 2·base: its capped
// exponential strategies are Exponential(2·base, 2, cap) here, while its
// decorrelated jitter starts from base itself, Exponential(base, 2, cap)
// with [Decorrelated] (docs/retry-storms.md reproduces the study this way).
//
// It panics if a duration is negative, cap is below base, or factor is below
// 1 or not finite.
func Exponential(base time.Duration, factor float64, cap time.Duration) Backoff {
	checkNonNegative("Exponential", "base", base)
	checkNonNegative("Exponential", "cap", cap)
	checkCap("Exponential", base, cap)
	if factor < 1 || math.IsInf(factor, 0) || math.IsNaN(factor) {
		panic(fmt.Sprintf("backoff: Exponential: factor %v must be a finite number ≥ 1", factor))
	}
	return Backoff{shape: exponential, base: base, factor: factor, cap: cap}
}

// WithJitter returns a copy of b that applies jitter j.
func (b Backoff) WithJitter(j Jitter) Backoff {
	b.jitter = j
	return b
}

// WithRand returns a copy of b that draws from r instead of math/rand/v2's
// global source. A nil r restores the global source.
func (b Backoff) WithRand(r Rand) Backoff {
	b.rand = r
	return b
}

// WithSeed returns a copy of b that draws from NewRand(seed): the same seed
// gives the same sequence of draws, and the strategy stays safe for
// concurrent use. Copies of the result share that one source.
func (b Backoff) WithSeed(seed uint64) Backoff {
	b.rand = NewRand(seed)
	return b
}

// NewRand returns a source of uniform random numbers seeded with seed and
// safe for concurrent use: the same seed gives the same sequence of draws
// (in the order the draws are made).
func NewRand(seed uint64) Rand {
	return &lockedRand{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// lockedRand makes a seeded *rand.Rand, which is not safe for concurrent
// use, safe to share.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func (l *lockedRand) Float64() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Float64()
}

// Base returns the strategy's base delay.
func (b Backoff) Base() time.Duration { return b.base }

// Cap returns the largest delay the strategy ever returns.
func (b Backoff) Cap() time.Duration { return b.cap }

// Delay returns the wait before retry number attempt, jittered and capped.
// An attempt below 1 is treated as 1; prev matters only to decorrelated
// jitter. The result always lies in [0, Cap()].
func (b Backoff) Delay(attempt int, prev time.Duration) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := b.jitter.apply(b, b.raw(attempt), prev)
	return clamp(d, b.cap)
}

// raw returns the un-jittered, capped delay for attempt ≥ 1.
func (b Backoff) raw(attempt int) time.Duration {
	switch b.shape {
	case linear:
		n := attempt - 1
		if b.step == 0 || b.base >= b.cap {
			return min(b.base, b.cap)
		}
		// base + step·n ≤ cap  ⇔  n ≤ (cap − base) / step, with no overflow.
		if time.Duration(n) > (b.cap-b.base)/b.step {
			return b.cap
		}
		return b.base + b.step*time.Duration(n)
	case exponential:
		return mulCapped(b.base, math.Pow(b.factor, float64(attempt-1)), b.cap)
	default:
		return min(b.base, b.cap)
	}
}

func (b Backoff) float64() float64 {
	if b.rand == nil {
		return rand.Float64()
	}
	return b.rand.Float64()
}

// mulCapped returns min(cap, d·f) for d, cap ≥ 0 and f ≥ 0, without overflow.
// A zero d gives 0 even for an infinite f (0·Inf is NaN in floating point).
func mulCapped(d time.Duration, f float64, cap time.Duration) time.Duration {
	if d == 0 {
		return 0
	}
	x := float64(d) * f
	if math.IsNaN(x) || x >= float64(cap) {
		return cap
	}
	// x < float64(cap) ≤ 2^63, so the conversion cannot overflow.
	return time.Duration(x)
}

// uniform returns a value drawn from U(lo, hi) for 0 ≤ lo ≤ hi.
func (b Backoff) uniform(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	// hi−lo < 2^63 and Float64 < 1, so the product stays below hi−lo.
	return lo + time.Duration(b.float64()*float64(hi-lo))
}

func clamp(d, cap time.Duration) time.Duration {
	if d > cap {
		return cap
	}
	if d < 0 {
		return 0
	}
	return d
}

func checkCap(fn string, base, cap time.Duration) {
	if cap < base {
		panic(fmt.Sprintf("backoff: %s: cap %v below base %v", fn, cap, base))
	}
}

func checkNonNegative(fn, what string, d time.Duration) {
	if d < 0 {
		panic(fmt.Sprintf("backoff: %s: negative %s %v", fn, what, d))
	}
}
