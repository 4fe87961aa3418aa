package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
)

func Example() {
	b := breaker.New(breaker.Config{ConsecutiveFailures: 3, OpenFor: 30 * time.Second})
	unavailable := errors.New("payments: unavailable")

	for i := range 4 {
		err := b.Do(context.Background(), func(context.Context) error { return unavailable })
		fmt.Printf("call %d: %v (breaker %v)\n", i+1, err, b.State())
	}

	err := b.Do(context.Background(), func(context.Context) error { return nil })
	if errors.Is(err, breaker.ErrOpen) {
		wait, _ := resilience.RetryAfter(err)
		fmt.Println("rejected; a probe is admitted in", wait.Round(time.Second))
	}
	// Output:
	// call 1: payments: unavailable (breaker closed)
	// call 2: payments: unavailable (breaker closed)
	// call 3: payments: unavailable (breaker open)
	// call 4: breaker: circuit open (breaker open)
	// rejected; a probe is admitted in 30s
}

func ExampleBreaker_Allow() {
	b := breaker.New(breaker.Config{})

	permit, err := b.Allow()
	if err != nil {
		fmt.Println("rejected:", err)
		return
	}
	// ... make the call that cannot be passed as a closure ...
	permit.Done(nil)

	fmt.Println(b.Metrics().Calls, "call recorded")
	// Output:
	// 1 call recorded
}

func ExampleBreaker_Metrics() {
	b := breaker.New(breaker.Config{})
	ctx := context.Background()
	for i := range 10 {
		_ = b.Do(ctx, func(context.Context) error {
			if i%5 == 0 {
				return errors.New("timeout")
			}
			return nil
		})
	}

	m := b.Metrics()
	fmt.Printf("%v: %d calls, %d failures, failure rate %.0f%%\n", m.State, m.Calls, m.Failures, 100*m.FailureRate)
	// Output:
	// closed: 10 calls, 2 failures, failure rate 20%
}

func ExampleBreaker_ForceOpen() {
	b := breaker.New(breaker.Config{})

	b.ForceOpen() // e.g. during a dependency's maintenance window
	fmt.Println(b.State(), b.Metrics().ForcedOpen)
	err := b.Do(context.Background(), func(context.Context) error { return nil })
	fmt.Println(err)

	b.Reset()
	fmt.Println(b.State())
	// Output:
	// open true
	// breaker: circuit open
	// closed
}

func ExampleConfig_observer() {
	b := breaker.New(breaker.Config{
		Name:                "payments",
		ConsecutiveFailures: 1,
		Observer: resilience.ObserverFunc(func(e resilience.Event) {
			if e.Kind == resilience.KindStateChange {
				fmt.Printf("%s: %s -> %s\n", e.Name, e.From, e.To)
			}
		}),
	})

	_ = b.Do(context.Background(), func(context.Context) error { return errors.New("refused") })
	b.Reset()
	// Output:
	// payments: closed -> open
	// payments: open -> closed
}

// Errors that say nothing about the dependency's health, such as a request
// the dependency refused as invalid, are neither successes nor failures.
// Keeping the default (a rejection by a policy inside the breaker) takes one
// more errors.Is.
func ExampleConfig_ignore() {
	errInvalid := errors.New("payments: invalid card number")
	b := breaker.New(breaker.Config{
		ConsecutiveFailures: 2,
		Ignore: func(err error) bool {
			return errors.Is(err, errInvalid) || errors.Is(err, resilience.ErrRejected)
		},
	})

	for range 5 {
		_ = b.Do(context.Background(), func(context.Context) error { return errInvalid })
	}

	m := b.Metrics()
	fmt.Println(m.State, m.Calls, "calls recorded")
	// Output:
	// closed 0 calls recorded
}

func ExampleConfig_Validate() {
	c := breaker.Config{OpenFor: 30 * time.Second, MaxOpenFor: 10 * time.Second}

	if err := c.Validate(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// breaker: MaxOpenFor 10s is below OpenFor 30s
}

// A rejection matches resilience.ErrRejected like every local rejection, and
// carries its hint for resilience.RetryAfter.
func ExampleErrOpen() {
	b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: time.Minute})
	_ = b.Do(context.Background(), func(context.Context) error { return errors.New("refused") })

	err := b.Do(context.Background(), func(context.Context) error { return nil })
	wait, _ := resilience.RetryAfter(err)
	fmt.Println(errors.Is(err, breaker.ErrOpen), errors.Is(err, resilience.ErrRejected), wait.Round(time.Second))
	// Output:
	// true true 1m0s
}
