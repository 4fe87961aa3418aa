package timeout_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/timeout"
)

func ExampleNew() {
	p := timeout.New(50 * time.Millisecond)
	err := p.Do(context.Background(), func(ctx context.Context) error {
		select { // a call that would take a minute, but honours ctx
		case <-time.After(time.Minute):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	fmt.Println(err)
	fmt.Println(errors.Is(err, timeout.ErrTimeout), errors.Is(err, context.DeadlineExceeded))
	// Output:
	// timeout: deadline of 50ms exceeded: context deadline exceeded
	// true true
}

// With an observer, a timed-out call reports the time it was allowed
// (KindTimeout's Duration), then the call itself (KindCall), as every call
// does.
func ExamplePolicy_WithObserver() {
	p := timeout.New(20*time.Millisecond).WithObserver("db", resilience.ObserverFunc(func(e resilience.Event) {
		switch e.Kind {
		case resilience.KindTimeout:
			fmt.Println(e.Name, e.Kind, "allowed", e.Duration)
		case resilience.KindCall:
			fmt.Println(e.Name, e.Kind, "failed:", errors.Is(e.Err, timeout.ErrTimeout))
		}
	}))
	_ = p.Do(context.Background(), func(ctx context.Context) error {
		<-ctx.Done() // a call that outlives its deadline
		return ctx.Err()
	})
	// Output:
	// db timeout allowed 20ms
	// db call failed: true
}
