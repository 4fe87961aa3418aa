package fallback_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/fallback"
)

// retryThrice stands in for retry.New in these examples: up to three
// attempts, no waiting.
var retryThrice = resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error {
	var err error
	for range 3 {
		if err = fn(ctx); err == nil {
			return nil
		}
	}
	return err
})

var errRefused = errors.New("connection refused")

// A fallback goes outermost: it answers once the retries have given up. Its
// observer is told of the failure it answered, then of the call, which
// returned what the fallback did.
func ExampleNew() {
	p := resilience.Chain(
		fallback.New(fallback.Config{
			Name: "newsletter",
			Fallback: func(ctx context.Context, err error) error {
				fmt.Println("queued for later after:", err)
				return nil
			},
			Observer: resilience.ObserverFunc(func(e resilience.Event) {
				fmt.Printf("event: %s %s %s, err: %v\n", e.Policy, e.Name, e.Kind, e.Err)
			}),
		}),
		retryThrice,
	)
	attempts := 0
	err := p.Do(context.Background(), func(context.Context) error {
		attempts++
		return errRefused
	})
	fmt.Println("attempts:", attempts, "error:", err)
	// Output:
	// event: fallback newsletter fallback, err: connection refused
	// queued for later after: connection refused
	// event: fallback newsletter call, err: <nil>
	// attempts: 3 error: <nil>
}

// Error replaces a failure with an error of the caller's choosing, and keeps
// the original reachable.
func ExampleError() {
	errQuotesUnavailable := errors.New("quotes unavailable")
	p := fallback.New(fallback.Config{Fallback: fallback.Error(errQuotesUnavailable)})

	err := p.Do(context.Background(), func(context.Context) error { return errRefused })
	fmt.Println(err)
	fmt.Println(errors.Is(err, errQuotesUnavailable), errors.Is(err, errRefused))
	// Output:
	// quotes unavailable: connection refused
	// true true
}

// DoValue answers a failed value-returning call with a default.
func ExampleDoValue() {
	fetchLimit := func(context.Context) (int, error) { return 0, errRefused }
	conservative := func(ctx context.Context, err error) (int, error) { return 100, nil }

	limit, err := fallback.DoValue(context.Background(), retryThrice, fetchLimit, conservative)
	fmt.Println(limit, err)
	// Output:
	// 100 <nil>
}

// A Cache serves the last good value while the dependency is down, marked
// stale, for at most MaxStale; after that the error comes back.
func ExampleCache() {
	rates := fallback.NewCache[string, float64](fallback.CacheConfig{
		Name:     "rates",
		MaxStale: 5 * time.Minute,
	})
	ctx := context.Background()
	up := func(context.Context) (float64, error) { return 1.08, nil }
	down := func(context.Context) (float64, error) { return 0, errRefused }

	res, err := rates.Do(ctx, "EUR", up)
	fmt.Printf("%.2f stale=%t err=%v\n", res.Value, res.Stale, err)

	res, err = rates.Do(ctx, "EUR", down)
	fmt.Printf("%.2f stale=%t young=%t because=%v err=%v\n", res.Value, res.Stale, res.Age < 5*time.Minute, res.Err, err)

	_, err = rates.Do(ctx, "GBP", down)
	fmt.Println("nothing remembered:", err)
	// Output:
	// 1.08 stale=false err=<nil>
	// 1.08 stale=true young=true because=connection refused err=<nil>
	// nothing remembered: connection refused
}

// A Cache runs its function once. The policy that retries the call (or
// guards it with a breaker) runs inside the function, and the cache answers
// once that policy has given up.
func ExampleCache_Do() {
	rates := fallback.NewCache[string, float64](fallback.CacheConfig{})
	ctx := context.Background()
	attempts := 0
	fetch := func(ctx context.Context) (float64, error) {
		return resilience.DoValue(ctx, retryThrice, func(context.Context) (float64, error) {
			attempts++
			if attempts == 1 {
				return 1.08, nil
			}
			return 0, errRefused
		})
	}

	res, err := rates.Do(ctx, "EUR", fetch)
	fmt.Println(res.Value, res.Stale, err, "after", attempts, "attempt")

	res, err = rates.Do(ctx, "EUR", fetch)
	fmt.Println(res.Value, res.Stale, err, "after", attempts, "attempts")
	// Output:
	// 1.08 false <nil> after 1 attempt
	// 1.08 true <nil> after 4 attempts
}
