package retry_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/retry"
)

// A flaky call succeeds on its third attempt.
func ExampleNew() {
	p := retry.New(retry.Config{
		MaxAttempts: 5,
		Backoff:     backoff.Exponential(time.Millisecond, 2, 10*time.Millisecond),
		Observer: resilience.ObserverFunc(func(e resilience.Event) {
			fmt.Printf("attempt %d failed (%v), retrying in %v\n", e.Attempt, e.Err, e.Delay)
		}),
	})
	err := p.Do(context.Background(), func(ctx context.Context) error {
		if retry.Attempt(ctx) < 3 {
			return errors.New("connection reset")
		}
		fmt.Println("attempt", retry.Attempt(ctx), "succeeded")
		return nil
	})
	fmt.Println("err:", err)
	// Output:
	// attempt 1 failed (connection reset), retrying in 1ms
	// attempt 2 failed (connection reset), retrying in 2ms
	// attempt 3 succeeded
	// err: <nil>
}

// Permanent stops retrying: a declined card will not succeed on retry.
func ExamplePermanent() {
	declined := errors.New("card declined")
	calls := 0
	err := retry.New(retry.Config{}).Do(context.Background(), func(context.Context) error {
		calls++
		return retry.Permanent(declined)
	})
	fmt.Println(calls, err, errors.Is(err, declined))
	// Output: 1 card declined true
}

// On giving up, the error tells how many attempts were made and keeps the
// last error reachable.
func ExampleExhaustedError() {
	p := retry.New(retry.Config{MaxAttempts: 2, Backoff: backoff.Constant(0)})
	err := p.Do(context.Background(), func(context.Context) error { return errors.New("503") })
	var ex *retry.ExhaustedError
	if errors.As(err, &ex) {
		fmt.Println(ex.Attempts, ex.Last, errors.Is(err, retry.ErrExhausted))
	}
	// Output: 2 503 true
}

// A budget shared by many policies caps retries to a share of requests.
func ExampleNewBudget() {
	budget := retry.NewBudget(retry.BudgetConfig{Ratio: 0.1, MinPerSecond: -1})
	p := retry.New(retry.Config{MaxAttempts: 3, Backoff: backoff.Constant(0), Budget: budget})
	calls := 0
	for range 100 {
		_ = p.Do(context.Background(), func(context.Context) error { calls++; return errors.New("down") })
	}
	fmt.Println("calls for 100 failing requests:", calls)
	// Output: calls for 100 failing requests: 110
}
