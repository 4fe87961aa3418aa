package retry

import (
	"cmp"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// BudgetConfig configures a [Budget]. The zero value of every field means the
// documented default, which is Finagle's: 20% of requests plus 10 retries a
// second, over a 10-second window.
type BudgetConfig struct {
	// Ratio is the share of requests that may be retried: with 0.2, five
	// requests earn one retry. Zero means 0.2; a value outside [0, 1000]
	// panics.
	Ratio float64

	// MinPerSecond is a floor of retries allowed each second whatever the
	// ratio, so a client with little traffic can still retry. Zero means 10;
	// a negative value means no floor.
	MinPerSecond int

	// TTL is how long a request counts towards the ratio. Zero means 10s; a
	// negative value panics.
	TTL time.Duration
}

// Budget caps retries to a share of requests, shared by every retry policy
// that points at it, so a fleet of callers cannot multiply the load on a
// struggling dependency: when the dependency fails every request, a policy
// with 3 attempts triples the load, but a 10% budget holds it near 1.1×.
//
// Every Do call of a policy with a budget counts one request
// ([Budget.Request]); every retry, and every hedge of package hedge, must be
// covered ([Budget.AllowRetry]) either by the ratio (retries in the last TTL < Ratio ×
// requests in the last TTL) or by the per-second floor, a token bucket from
// golang.org/x/time/rate. A denied retry ends Do with an error matching
// [ErrBudgetExhausted].
//
// A Budget is safe for concurrent use; it starts no goroutine and reads the
// clock only when a policy uses it.
type Budget struct {
	ratio float64
	floor *rate.Limiter // nil when there is no floor

	mu      sync.Mutex
	width   time.Duration // of one bucket
	buckets []budgetBucket
	head    int       // index of the current bucket
	headAt  time.Time // start of the current bucket
	reqs    int64     // sum over buckets
	retries int64     // sum over buckets
}

type budgetBucket struct{ reqs, retries int64 }

const budgetBuckets = 10

// Validate reports what [NewBudget] would panic on: a Ratio outside
// [0, 1000] (or NaN) or a negative TTL. It returns nil for a configuration
// NewBudget accepts.
func (c BudgetConfig) Validate() error {
	var errs []error
	if !(c.Ratio >= 0 && c.Ratio <= 1000) {
		errs = append(errs, fmt.Errorf("retry: budget ratio %v outside [0, 1000]", c.Ratio))
	}
	if c.TTL < 0 {
		errs = append(errs, fmt.Errorf("retry: negative budget TTL %v", c.TTL))
	}
	return errors.Join(errs...)
}

// NewBudget returns a budget. It panics with a "retry:" message on a
// configuration [BudgetConfig.Validate] rejects: a Ratio outside [0, 1000]
// or a negative TTL.
func NewBudget(c BudgetConfig) *Budget {
	if err := c.Validate(); err != nil {
		panic(err.Error())
	}
	c.Ratio = cmp.Or(c.Ratio, 0.2)
	c.MinPerSecond = cmp.Or(c.MinPerSecond, 10)
	c.TTL = cmp.Or(c.TTL, 10*time.Second)
	b := &Budget{
		ratio:   c.Ratio,
		width:   max(c.TTL/budgetBuckets, time.Nanosecond),
		buckets: make([]budgetBucket, budgetBuckets),
	}
	if c.MinPerSecond > 0 {
		b.floor = rate.NewLimiter(rate.Limit(c.MinPerSecond), c.MinPerSecond)
	}
	return b
}

// Request counts one request towards the ratio. Every policy that spends
// the budget calls it once per call it guards (a retry policy's Do, a
// hedge policy's Do), before any retry or hedge asks [Budget.AllowRetry].
// It is safe for concurrent use and allocates nothing.
func (b *Budget) Request() {
	b.mu.Lock()
	b.advance(time.Now())
	b.buckets[b.head].reqs++
	b.reqs++
	b.mu.Unlock()
}

// AllowRetry reports whether one more retry (or hedge: any extra send of a
// request already counted by [Budget.Request]) is covered, by the ratio or
// by the per-second floor, and spends it if so. A false answer spends
// nothing: the caller must not send. It is safe for concurrent use and
// allocates nothing.
func (b *Budget) AllowRetry() bool {
	b.mu.Lock()
	b.advance(time.Now())
	ok := float64(b.retries+1) <= b.ratio*float64(b.reqs)
	if ok {
		b.buckets[b.head].retries++
		b.retries++
	}
	b.mu.Unlock()
	if ok {
		return true
	}
	return b.floor != nil && b.floor.Allow()
}

// advance drops buckets older than the window, lazily. b.mu is held.
func (b *Budget) advance(now time.Time) {
	if b.headAt.IsZero() {
		b.headAt = now
		return
	}
	steps := int64(now.Sub(b.headAt) / b.width)
	if steps <= 0 {
		return
	}
	if steps > budgetBuckets {
		steps = budgetBuckets
	}
	for range steps {
		b.head = (b.head + 1) % budgetBuckets
		b.reqs -= b.buckets[b.head].reqs
		b.retries -= b.buckets[b.head].retries
		b.buckets[b.head] = budgetBucket{}
	}
	b.headAt = b.headAt.Add(time.Duration(steps) * b.width)
	if now.Sub(b.headAt) >= b.width { // after a long idle gap, realign
		b.headAt = now
	}
}
