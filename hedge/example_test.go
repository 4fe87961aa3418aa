package hedge_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/hedge"
	"github.com/magicmagnets/resilience/retry"
)

// A first attempt stuck on a slow replica is overtaken by a hedge sent
// after 20ms; DoValue returns the hedge's value, and the stuck attempt is
// cancelled.
func ExampleNew() {
	p := hedge.New(hedge.Config{Delay: 20 * time.Millisecond})
	replicas := make(chan string, 2)
	replicas <- "slow replica"
	replicas <- "fast replica"
	v, err := resilience.DoValue(context.Background(), p, func(ctx context.Context) (string, error) {
		replica := <-replicas
		if replica == "slow replica" {
			<-ctx.Done() // would take a minute; ends when the hedge wins
			return "", ctx.Err()
		}
		return "answer from the " + replica, nil
	})
	fmt.Println(v, err)
	// Output:
	// answer from the fast replica <nil>
}

// With Quantile, the delay is the 95th percentile of recent latencies, so
// about one call in twenty is hedged; the budget, shared with the retry
// policies of the same dependency, caps hedges and retries together.
func ExampleConfig_quantile() {
	budget := retry.NewBudget(retry.BudgetConfig{Ratio: 0.1})
	p := hedge.New(hedge.Config{
		Name:     "search",
		Quantile: 0.95,
		MinDelay: 2 * time.Millisecond,
		Delay:    50 * time.Millisecond, // until 20 calls have succeeded
		Budget:   budget,
	})
	fmt.Println(p.Delay(), p.MaxHedges())
	// Output:
	// 50ms 1
}

// A POST is marked so that no hedge policy sends it twice at once.
func ExampleWithoutHedges() {
	p := hedge.New(hedge.Config{Delay: time.Millisecond, MaxHedges: 3})
	calls := 0
	err := p.Do(hedge.WithoutHedges(context.Background()), func(ctx context.Context) error {
		calls++
		time.Sleep(5 * time.Millisecond) // slow, but never hedged
		return nil
	})
	fmt.Println(calls, err)
	// Output:
	// 1 <nil>
}

// A failure RetryIf rejects is the call's answer: the hedges in flight
// are cancelled and Do returns it.
func ExampleConfig_retryIf() {
	errNotFound := errors.New("not found")
	p := hedge.New(hedge.Config{
		Delay:   time.Millisecond,
		RetryIf: func(err error) bool { return !errors.Is(err, errNotFound) },
	})
	err := p.Do(context.Background(), func(ctx context.Context) error { return errNotFound })
	fmt.Println(err)
	// Output:
	// not found
}
