package timeout_test

import (
	"context"
	"errors"
	"fmt"
	"time"

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
