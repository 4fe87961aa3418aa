// Package retry runs an operation again when it fails, waiting between
// attempts according to a backoff strategy.
//
//	p := retry.New(retry.Config{MaxAttempts: 5})
//	err := p.Do(ctx, func(ctx context.Context) error { return call(ctx) })
//
// A retry policy stops when an attempt succeeds, when the error is not
// retryable ([Permanent], the caller's own context ending, or RetryIf saying
// no), when attempts or MaxElapsed run out, or when a shared [Budget] denies
// the retry. Errors that implement interface{ RetryAfter() time.Duration }
// (an open breaker, an HTTP 429 or 503 with Retry-After) set the next delay
// themselves, clamped to MaxDelay.
//
// Events (resilience.Event with Policy "retry"): KindRetry before each wait,
// with Attempt (the attempt that failed), Delay and Err; KindGiveUp when the
// policy stops on a failure, with Attempt and Err.
package retry

import (
	"context"
	"fmt"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/internal/callerr"
)

// Config configures a [Policy]. The zero value of every field means the
// documented default.
type Config struct {
	// MaxAttempts is the number of attempts including the first. Zero means
	// 3; a negative value means unlimited, bounded by MaxElapsed and the
	// context.
	MaxAttempts int

	// Backoff gives the delay before each retry. Nil means exponential
	// backoff from 100ms, doubling, capped at 10s, with full jitter.
	Backoff backoff.Strategy

	// MaxElapsed stops scheduling retries once this much time has passed
	// since Do started: a delay that would end after it is not waited, the
	// policy gives up at once. Zero means no limit; negative panics.
	MaxElapsed time.Duration

	// MaxDelay caps any single delay, server hints (RetryAfter) included.
	// Zero means 30s; negative panics.
	MaxDelay time.Duration

	// RetryIf reports whether an error is worth retrying. It is consulted
	// only for errors that are not Permanent and not the end of the caller's
	// own context. Nil retries every such error.
	RetryIf func(error) bool

	// Budget, when set, caps retries to a share of requests across every
	// policy that shares it. Nil means no budget.
	Budget *Budget

	// Name is copied into every event's Name.
	Name string

	// Observer receives events. Nil means none.
	Observer resilience.Observer
}

// DefaultBackoff is the strategy used when Config.Backoff is nil:
// exponential from 100ms, doubling, capped at 10s, with full jitter.
var DefaultBackoff backoff.Strategy = backoff.Exponential(100*time.Millisecond, 2, 10*time.Second).WithJitter(backoff.Full)

const (
	defaultMaxAttempts = 3
	defaultMaxDelay    = 30 * time.Second
)

// Policy retries an operation. It is immutable after New and safe for
// concurrent use.
type Policy struct {
	maxAttempts int
	backoff     backoff.Strategy
	maxElapsed  time.Duration
	maxDelay    time.Duration
	retryIf     func(error) bool
	budget      *Budget
	name        string
	observer    resilience.Observer
}

// New returns a retry policy. It panics with a "retry:" message if
// MaxElapsed or MaxDelay is negative.
func New(c Config) *Policy {
	if c.MaxElapsed < 0 {
		panic(fmt.Sprintf("retry: negative MaxElapsed %v", c.MaxElapsed))
	}
	if c.MaxDelay < 0 {
		panic(fmt.Sprintf("retry: negative MaxDelay %v", c.MaxDelay))
	}
	p := &Policy{
		maxAttempts: c.MaxAttempts,
		backoff:     c.Backoff,
		maxElapsed:  c.MaxElapsed,
		maxDelay:    c.MaxDelay,
		retryIf:     c.RetryIf,
		budget:      c.Budget,
		name:        c.Name,
		observer:    c.Observer,
	}
	if p.maxAttempts == 0 {
		p.maxAttempts = defaultMaxAttempts
	}
	if p.backoff == nil {
		p.backoff = DefaultBackoff
	}
	if p.maxDelay == 0 {
		p.maxDelay = defaultMaxDelay
	}
	return p
}

// MaxDelay returns the policy's cap on a single delay, after defaults.
func (p *Policy) MaxDelay() time.Duration { return p.maxDelay }

// Do runs fn until it succeeds or the policy gives up, and returns:
//   - nil on success;
//   - fn's error, unchanged, when it is not retryable (RetryIf said no, or it
//     is the end of the caller's own context);
//   - the error inside a [Permanent] error;
//   - an error matching [ErrExhausted] and the last error, with an
//     [*ExhaustedError] inside, when attempts or MaxElapsed run out;
//   - an error matching [ErrBudgetExhausted] and the last error when the
//     budget denies a retry;
//   - an error matching both the context's error and the last error when the
//     caller's context ends during a wait (Do returns at once).
//
// A nil fn returns resilience.ErrNilFunc. Each attempt's context answers
// [Attempt].
func (p *Policy) Do(ctx context.Context, fn resilience.Func) error {
	return p.DoNext(ctx, nil, fn)
}

// DoNext is Do with each attempt running next.Do(ctx, fn) rather than
// fn(ctx); a nil next runs fn. resilience.Chain calls it so that composing
// policies allocates no closure.
func (p *Policy) DoNext(ctx context.Context, next resilience.Policy, fn resilience.Func) error {
	if fn == nil {
		return resilience.ErrNilFunc
	}
	var start time.Time
	if p.maxElapsed > 0 {
		start = time.Now()
	}
	if p.budget != nil {
		p.budget.request()
	}
	var prev time.Duration
	for attempt := 1; ; attempt++ {
		err := call(&attemptContext{Context: ctx, attempt: attempt}, next, fn)
		if err == nil {
			return nil
		}
		if perm := ownPermanent(err); perm != nil {
			p.emit(resilience.KindGiveUp, attempt, 0, err)
			return perm.err
		}
		if markedPermanent(err) {
			p.emit(resilience.KindGiveUp, attempt, 0, err)
			return err
		}
		if callerr.Ended(ctx, err) {
			return err
		}
		if ctx.Err() != nil {
			return &waitError{ctx: ctx.Err(), last: err, attempt: attempt}
		}
		if p.retryIf != nil && !p.retryIf(err) {
			p.emit(resilience.KindGiveUp, attempt, 0, err)
			return err
		}
		if p.maxAttempts > 0 && attempt >= p.maxAttempts {
			return p.exhausted(attempt, err)
		}
		delay := p.delay(attempt, prev, err)
		if p.maxElapsed > 0 && time.Since(start)+delay > p.maxElapsed {
			return p.exhausted(attempt, err)
		}
		if p.budget != nil && !p.budget.allowRetry() {
			p.emit(resilience.KindGiveUp, attempt, 0, err)
			return &budgetError{last: err}
		}
		p.emit(resilience.KindRetry, attempt, delay, err)
		if werr := wait(ctx, delay); werr != nil {
			return &waitError{ctx: werr, last: err, attempt: attempt}
		}
		prev = delay
	}
}

// delay returns the wait after the failed attempt: the error's own hint when
// it has a positive one, the backoff strategy's otherwise, capped by MaxDelay.
func (p *Policy) delay(attempt int, prev time.Duration, err error) time.Duration {
	d := p.backoff.Delay(attempt, prev)
	if h, ok := hint(err); ok && h > 0 {
		d = h
	}
	return max(0, min(d, p.maxDelay))
}

func (p *Policy) exhausted(attempts int, last error) error {
	p.emit(resilience.KindGiveUp, attempts, 0, last)
	return &ExhaustedError{Attempts: attempts, Last: last}
}

func (p *Policy) emit(kind resilience.Kind, attempt int, delay time.Duration, err error) {
	if p.observer == nil {
		return
	}
	p.observer.Observe(resilience.Event{Policy: "retry", Name: p.name, Kind: kind, Attempt: attempt, Delay: delay, Err: err})
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
