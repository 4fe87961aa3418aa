package main

import (
	"fmt"
	"time"

	"github.com/magicmagnets/resilience/retry"
)

// retry.Budget reads the wall clock (time.Now), and part 2 runs in simulated
// time, so it cannot call it. budgetModel applies the same documented rules
// to a simulated clock, for the configurations part 2 uses; models_test.go
// checks, inside a testing/synctest bubble, that it makes the same decisions
// as the real Budget, driven through retry.Policy. The breaker's model is
// internal/breakermodel's, shared with the overload study.

// budgetModel mirrors retry.Budget without a per-second floor: a retry is
// allowed while retries+1 ≤ Ratio × requests, both counted over the last
// TTL in ten buckets that expire lazily.
type budgetModel struct {
	ratio   float64
	width   time.Duration
	buckets [10]struct{ reqs, retries int64 }
	head    int
	headAt  time.Duration
	started bool
	reqs    int64
	retries int64
}

// newBudgetModel applies retry.NewBudget's defaults to c. It supports only
// a budget without a floor (MinPerSecond < 0).
func newBudgetModel(c retry.BudgetConfig) *budgetModel {
	if c.MinPerSecond >= 0 {
		panic(fmt.Sprintf("retrystorm: budget model has no floor, got MinPerSecond %d", c.MinPerSecond))
	}
	if c.Ratio == 0 {
		c.Ratio = 0.2
	}
	if c.TTL == 0 {
		c.TTL = 10 * time.Second
	}
	return &budgetModel{ratio: c.Ratio, width: max(c.TTL/10, 1)}
}

// request counts one request (one retry.Policy.Do call) at now.
func (b *budgetModel) request(now time.Duration) {
	b.advance(now)
	b.buckets[b.head].reqs++
	b.reqs++
}

// allowRetry reports whether one more retry fits at now, and counts it if so.
func (b *budgetModel) allowRetry(now time.Duration) bool {
	b.advance(now)
	if float64(b.retries+1) > b.ratio*float64(b.reqs) {
		return false
	}
	b.buckets[b.head].retries++
	b.retries++
	return true
}

func (b *budgetModel) advance(now time.Duration) {
	if !b.started {
		b.started, b.headAt = true, now
		return
	}
	steps := int64((now - b.headAt) / b.width)
	if steps <= 0 {
		return
	}
	for range min(steps, int64(len(b.buckets))) {
		b.head = (b.head + 1) % len(b.buckets)
		b.reqs -= b.buckets[b.head].reqs
		b.retries -= b.buckets[b.head].retries
		b.buckets[b.head] = struct{ reqs, retries int64 }{}
	}
	b.headAt += time.Duration(steps) * b.width
	if now-b.headAt >= b.width {
		b.headAt = now
	}
}
