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
			switch e.Kind {
			case resilience.KindRetry:
				fmt.Printf("attempt %d failed (%v), retrying in %v\n", e.Attempt, e.Err, e.Delay)
			case resilience.KindCall:
				fmt.Printf("call finished after %d attempts: %v\n", e.Attempt, e.Err)
			}
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
	// call finished after 3 attempts: <nil>
	// err: <nil>
}

// An error marked with resilience.Permanent stops retrying: a declined card
// will not succeed on retry.
func ExamplePolicy_Do_permanent() {
	declined := errors.New("card declined")
	calls := 0
	err := retry.New(retry.Config{}).Do(context.Background(), func(context.Context) error {
		calls++
		return resilience.Permanent(declined)
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

// Next is the decision step for callers that cannot hand Do a closure, such
// as a stream wrapper that retries only its setup.
func ExamplePolicy_Next() {
	p := retry.New(retry.Config{MaxAttempts: 3, Backoff: backoff.Exponential(100*time.Millisecond, 2, time.Second)})
	setupErr := errors.New("stream reset")
	for attempt := 1; ; attempt++ {
		delay, ok := p.Next(attempt, setupErr)
		if !ok {
			fmt.Println("give up after attempt", attempt)
			break
		}
		fmt.Println("after attempt", attempt, "wait", delay)
	}
	// Output:
	// after attempt 1 wait 100ms
	// after attempt 2 wait 200ms
	// give up after attempt 3
}

// A configuration read from a file is checked before New, which would panic.
func ExampleConfig_Validate() {
	c := retry.Config{MaxAttempts: 5, MaxDelay: -time.Second}
	fmt.Println(c.Validate())
	// Output: retry: negative MaxDelay -1s
}

// A wait that would end after the caller's deadline is not started: the
// policy gives up at once and leaves the remaining time to the caller.
func ExampleExhaustedError_deadline() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	p := retry.New(retry.Config{Backoff: backoff.Constant(5 * time.Second)})
	start := time.Now()
	err := p.Do(ctx, func(context.Context) error { return errors.New("503") })
	fmt.Println(err)
	fmt.Println(errors.Is(err, retry.ErrExhausted), time.Since(start) < time.Second)
	// Output:
	// retry: gave up after 1 attempts: the next wait, 5s, would end after the context's deadline: 503
	// true true
}
