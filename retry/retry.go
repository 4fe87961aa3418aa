// Package retry runs an operation again when it fails, waiting between
// attempts according to a backoff strategy.
//
//	p := retry.New(retry.Config{MaxAttempts: 5})
//	err := p.Do(ctx, func(ctx context.Context) error { return call(ctx) })
//
// A retry policy stops when an attempt succeeds, when the error is not
// retryable (marked with [resilience.Permanent], the caller's own context
// ending, or RetryIf saying no), when attempts run out, when a shared
// [Budget] denies the retry, or when the next wait would end after
// MaxElapsed or the context's deadline: it never starts a wait it cannot
// finish, but gives up at once, leaving the caller's remaining time to a
// fallback. A context that is already done runs nothing, and the context
// is checked again before every attempt.
//
// Errors that carry a hint, a method RetryAfter() time.Duration found as
// errors.As would find it (an open breaker, an HTTP 429 or 503 with
// Retry-After; see resilience.RetryAfter), set the next delay themselves:
// the hint, capped at MaxDelay, plus a random tenth of it at most, so that
// callers turned away together do not come back in the same instant.
//
// Events (resilience.Event with Policy "retry"), only when an Observer is
// set:
//   - KindRetry before each wait, with Attempt (the attempt that failed),
//     Delay (the wait) and Err;
//   - KindGiveUp when the policy stops on a failure, unless it stops because
//     the caller's own context ended, with Attempt and Err;
//   - KindCall once per finished call of Do, with Attempt (the number of
//     attempts made, 0 when the context was already done), Duration (how
//     long the whole call took, waits included) and Err (what Do returned).
package retry

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/internal/callerr"
	"github.com/magicmagnets/resilience/internal/emit"
)

// Config configures a [Policy]. The zero value of every field means the
// documented default.
type Config struct {
	// MaxAttempts is the number of attempts including the first. Zero means
	// 3; a negative value means unlimited, bounded by MaxElapsed and the
	// context.
	MaxAttempts int

	// Backoff gives the delay before each retry. Zero means exponential
	// backoff from 100ms, doubling, capped at 10s, with full jitter:
	//
	//	backoff.Exponential(100*time.Millisecond, 2, 10*time.Second).WithJitter(backoff.Full)
	Backoff backoff.Strategy

	// MaxElapsed stops scheduling retries once this much time has passed
	// since Do started: a delay that would end after it is not waited, the
	// policy gives up at once. Zero means no limit; a negative value
	// panics.
	MaxElapsed time.Duration

	// MaxDelay caps any single delay, server hints (RetryAfter) included;
	// a hint's jitter (a tenth of the capped hint at most) comes on top, so
	// no wait exceeds 1.1 × MaxDelay. Zero means 30s; a negative value
	// panics.
	MaxDelay time.Duration

	// RetryIf reports whether an error is worth retrying. It is consulted
	// only for errors that are not permanent ([resilience.IsPermanent]) and
	// not the end of the caller's own context. Zero means every such error
	// is retried.
	RetryIf func(error) bool

	// Budget, when set, caps retries to a share of requests across every
	// policy that shares it. Zero means no budget.
	Budget *Budget

	// Rand is the source of the jitter added to a hint. Zero means
	// math/rand/v2's global source. A Rand shared by concurrent calls must
	// be safe for concurrent use, as [backoff.Backoff.WithSeed]'s source is
	// and a seeded *rand.Rand is not.
	Rand backoff.Rand

	// Name is copied into every event's Name. Zero means no name.
	Name string

	// Observer receives the policy's events. Zero means no events, at no
	// cost.
	Observer resilience.Observer
}

// Validate reports what [New] would panic on: a negative MaxElapsed or
// MaxDelay. It returns nil for a configuration New accepts.
func (c Config) Validate() error {
	var errs []error
	if c.MaxElapsed < 0 {
		errs = append(errs, fmt.Errorf("retry: negative MaxElapsed %v", c.MaxElapsed))
	}
	if c.MaxDelay < 0 {
		errs = append(errs, fmt.Errorf("retry: negative MaxDelay %v", c.MaxDelay))
	}
	return errors.Join(errs...)
}

// The defaults of a zero Config, as its fields' docs state them.
const (
	defaultMaxAttempts = 3
	defaultMaxDelay    = 30 * time.Second
)

// defaultBackoff is Config.Backoff's default. It is built once, so that New
// does not convert a fresh Backoff to a Strategy, and is never reassigned.
var defaultBackoff backoff.Strategy = backoff.Exponential(100*time.Millisecond, 2, 10*time.Second).WithJitter(backoff.Full)

// Policy retries an operation. It is immutable after New and safe for
// concurrent use.
type Policy struct {
	maxAttempts int
	backoff     backoff.Strategy
	maxElapsed  time.Duration
	maxDelay    time.Duration
	retryIf     func(error) bool
	budget      *Budget
	rand        backoff.Rand
	emit        emit.Emitter
}

// New returns a retry policy. It panics with a "retry:" message on a
// configuration [Config.Validate] rejects: a negative MaxElapsed or
// MaxDelay.
func New(c Config) *Policy {
	if err := c.Validate(); err != nil {
		panic(err.Error())
	}
	p := &Policy{
		maxAttempts: cmp.Or(c.MaxAttempts, defaultMaxAttempts),
		backoff:     c.Backoff,
		maxElapsed:  c.MaxElapsed,
		maxDelay:    cmp.Or(c.MaxDelay, defaultMaxDelay),
		retryIf:     c.RetryIf,
		budget:      c.Budget,
		rand:        c.Rand,
		emit:        emit.Emitter{Policy: "retry", Name: c.Name, Observer: c.Observer},
	}
	if p.backoff == nil {
		p.backoff = defaultBackoff
	}
	return p
}

// MaxDelay returns the policy's cap on a single delay, after defaults.
func (p *Policy) MaxDelay() time.Duration { return p.maxDelay }

// Do runs fn until it succeeds or the policy gives up, and returns:
//   - nil on success;
//   - fn's error, unchanged, when it is not retryable: RetryIf said no, it
//     is the end of the caller's own context, or it is marked with
//     [resilience.Permanent] (still marked, so a retry policy around this one
//     stops too);
//   - an error matching [ErrExhausted] and the last error, with an
//     [*ExhaustedError] inside, when attempts run out or when the next wait
//     would end after MaxElapsed or at or after the context's deadline (Do
//     gives up at once rather than wait);
//   - an error matching [ErrBudgetExhausted] and the last error when the
//     budget denies a retry;
//   - an error matching both the context's error and the last error when the
//     caller's context ends during a wait (Do returns at once);
//   - the context's error, without calling fn, when ctx is already done.
//
// A nil fn returns resilience.ErrNilFunc. Each attempt's context answers
// [Attempt]. The wait before each retry is the one [Policy.Next] gives, with
// the previous delay passed to the strategy.
func (p *Policy) Do(ctx context.Context, fn resilience.Func) error {
	return p.DoNext(ctx, nil, fn)
}

// DoNext implements [resilience.Nexter]: it is Do with each attempt
// running next.Do(ctx, fn) rather than fn(ctx).
func (p *Policy) DoNext(ctx context.Context, next resilience.Policy, fn resilience.Func) error {
	if fn == nil {
		return resilience.ErrNilFunc
	}
	if p.emit.On() {
		return p.observed(ctx, next, fn)
	}
	_, err := p.run(ctx, time.Time{}, next, fn)
	return err
}

// observed is DoNext with an observer: the call is timed and ends with its
// KindCall event. Without an observer, DoNext reads no clock for it.
func (p *Policy) observed(ctx context.Context, next resilience.Policy, fn resilience.Func) error {
	start := time.Now()
	attempts, err := p.run(ctx, start, next, fn)
	p.emit.Emit(resilience.Event{Kind: resilience.KindCall, Attempt: attempts, Duration: time.Since(start), Err: err})
	return err
}

// run is Do's loop. start is the time Do started, or zero: run then reads
// the clock only if MaxElapsed needs it. It returns the number of attempts
// made and Do's error.
func (p *Policy) run(ctx context.Context, start time.Time, next resilience.Policy, fn resilience.Func) (attempts int, err error) {
	if cerr := ctx.Err(); cerr != nil {
		return 0, cerr
	}
	if p.maxElapsed > 0 && start.IsZero() {
		start = time.Now()
	}
	if p.budget != nil {
		p.budget.Request()
	}
	var prev time.Duration
	for attempt := 1; ; attempt++ {
		err = call(&attemptContext{Context: ctx, attempt: attempt}, next, fn)
		if err == nil {
			return attempt, nil
		}
		if resilience.IsPermanent(err) {
			p.giveUp(attempt, err)
			return attempt, err
		}
		if callerr.Ended(ctx, err) {
			return attempt, err
		}
		if ctx.Err() != nil {
			return attempt, &waitError{ctx: ctx.Err(), last: err, attempt: attempt}
		}
		delay, v := p.step(attempt, prev, err)
		switch v {
		case stopRetryIf:
			p.giveUp(attempt, err)
			return attempt, err
		case stopAttempts:
			p.giveUp(attempt, err)
			return attempt, &ExhaustedError{Attempts: attempt, Last: err}
		}
		if why := p.tooLate(ctx, start, delay); why != "" {
			p.giveUp(attempt, err)
			return attempt, &ExhaustedError{Attempts: attempt, Last: err, Delay: delay, after: why}
		}
		if p.budget != nil && !p.budget.AllowRetry() {
			p.giveUp(attempt, err)
			return attempt, &budgetError{last: err}
		}
		p.emit.Emit(resilience.Event{Kind: resilience.KindRetry, Attempt: attempt, Delay: delay, Err: err})
		if werr := wait(ctx, delay); werr != nil {
			return attempt, &waitError{ctx: werr, last: err, attempt: attempt}
		}
		// The wait may end in the same instant as the context: start no
		// attempt on a context that is done.
		if cerr := ctx.Err(); cerr != nil {
			return attempt, &waitError{ctx: cerr, last: err, attempt: attempt}
		}
		prev = delay
	}
}

// giveUp emits the KindGiveUp event of a call that stopped after attempt
// failed with err.
func (p *Policy) giveUp(attempt int, err error) {
	p.emit.Emit(resilience.Event{Kind: resilience.KindGiveUp, Attempt: attempt, Err: err})
}

// tooLate returns what a wait of delay would end after, "MaxElapsed" or "the
// context's deadline", or "" when it fits. A wait that ends exactly at the
// deadline does not fit: no attempt could start then. The comparisons
// subtract rather than add, so no hint, however large, overflows.
func (p *Policy) tooLate(ctx context.Context, start time.Time, delay time.Duration) string {
	if p.maxElapsed > 0 && delay > p.maxElapsed-time.Since(start) {
		return "MaxElapsed"
	}
	if deadline, ok := ctx.Deadline(); ok && delay >= time.Until(deadline) {
		return "the context's deadline"
	}
	return ""
}

// call runs fn under next, or fn alone when next is nil.
func call(ctx context.Context, next resilience.Policy, fn resilience.Func) error {
	if next == nil {
		return fn(ctx)
	}
	return next.Do(ctx, fn)
}

// wait blocks for d or until ctx ends, whichever is first, and returns ctx's
// error in the second case. The timer is stopped either way.
func wait(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
