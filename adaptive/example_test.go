package adaptive_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/adaptive"
)

// A server-side limiter with Netflix's Gradient2 defaults: 20 calls at
// first, moving between 20 and 200 with the latency it measures.
func ExampleLimiter() {
	lim := adaptive.NewLimiter(adaptive.LimiterConfig{Name: "orders"})
	err := lim.Do(context.Background(), func(ctx context.Context) error {
		return nil // handle the request
	})
	fmt.Println(err, lim.Limit(), lim.InFlight())
	// Output: <nil> 20 0
}

// The two-step form, for code that cannot pass a closure, such as an HTTP
// middleware: a refusal is answered with 503.
func ExampleLimiter_Allow() {
	lim := adaptive.NewLimiter(adaptive.LimiterConfig{Algorithm: adaptive.AIMD, InitialLimit: 1, MinLimit: 1})
	first, err := lim.Allow()
	fmt.Println(err)
	_, err = lim.Allow()
	fmt.Println(err, errors.Is(err, resilience.ErrRejected))
	first.Done(context.DeadlineExceeded) // a timeout is a drop: the limit backs off (not below MinLimit)
	fmt.Println(lim.InFlight(), lim.Limit())
	// Output:
	// <nil>
	// adaptive: concurrency limit reached true
	// 0 1
}

// A client-side throttle: once the backend refuses most requests, the
// client rejects some locally instead of sending them.
func ExampleThrottler() {
	th := adaptive.NewThrottler(adaptive.ThrottlerConfig{Rand: rand.New(rand.NewPCG(1, 1))})
	refused := fmt.Errorf("backend: %w", resilience.ErrRejected) // as an overload answer would be
	sent := 0
	for range 100 {
		_ = th.Do(context.Background(), func(context.Context) error {
			sent++
			return refused
		})
	}
	fmt.Printf("sent %d of 100; rejecting with probability %.1f\n", sent, th.RejectProbability())
	// Output: sent 27 of 100; rejecting with probability 0.9
}
