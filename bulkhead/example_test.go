package bulkhead_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/bulkhead"
)

func Example() {
	b := bulkhead.New(bulkhead.Config{MaxConcurrent: 2})
	ctx := context.Background()

	// Two slow calls take both slots ...
	started, release := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			_ = b.Do(ctx, func(context.Context) error {
				started <- struct{}{}
				<-release
				return nil
			})
		})
	}
	<-started
	<-started

	// ... so a third is shed at once, without running.
	err := b.Do(ctx, func(context.Context) error { return nil })
	fmt.Println(err, errors.Is(err, resilience.ErrRejected))
	close(release)
	wg.Wait()
	fmt.Println("in flight:", b.InFlight(), "of", b.Limit())
	// Output:
	// bulkhead: full true
	// in flight: 0 of 2
}

func ExampleBulkhead_Allow() {
	b := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})

	permit, err := b.Allow()
	if err != nil {
		fmt.Println("shed:", err)
		return
	}
	// ... make the call that cannot be passed as a closure ...
	_, err = b.Allow()
	fmt.Println("second caller:", err)
	permit.Done()
	fmt.Println(b.Metrics())
	// Output:
	// second caller: bulkhead: full
	// {0 0 1}
}

// A breaker around a bulkhead does not count the bulkhead's refusals as
// failures of the dependency: the call never reached it.
func Example_breaker() {
	b := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	cb := breaker.New(breaker.Config{ConsecutiveFailures: 1})
	p := resilience.Chain(cb, b)

	permit, _ := b.Allow() // the only slot is taken
	err := p.Do(context.Background(), func(context.Context) error { return nil })
	permit.Done()
	fmt.Println(err)
	fmt.Println("breaker:", cb.State(), "failures:", cb.Metrics().Failures)
	// Output:
	// bulkhead: full
	// breaker: closed failures: 0
}

func ExampleConfig_queue() {
	b := bulkhead.New(bulkhead.Config{MaxConcurrent: 1, MaxQueue: 10, MaxWait: 50 * time.Millisecond})
	permit, _ := b.Allow()

	// The slot stays taken for longer than MaxWait: the queued call gives up.
	err := b.Do(context.Background(), func(context.Context) error { return nil })
	permit.Done()
	fmt.Println(err, errors.Is(err, bulkhead.ErrFull))
	// Output:
	// bulkhead: full: no slot within MaxWait true
}
