// Command quickstart shows a flaky call succeeding after retries: a total
// timeout, a retry policy with exponential backoff and full jitter, and a
// per-attempt timeout, composed with resilience.Chain. It prints every
// attempt, every wait and the outcome.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/retry"
	"github.com/magicmagnets/resilience/timeout"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Println("outcome: failed:", err)
		os.Exit(1)
	}
}

// run makes the flaky call and writes every attempt, wait and the outcome
// to w.
func run(w io.Writer) error {
	start := time.Now()
	since := func() string { return fmt.Sprintf("%6.0fms", float64(time.Since(start).Microseconds())/1000) }

	policy := resilience.Chain(
		timeout.New(5*time.Second), // the whole call, retries included
		retry.New(retry.Config{
			MaxAttempts: 5,
			Backoff: backoff.Exponential(50*time.Millisecond, 2, time.Second).
				WithJitter(backoff.Full).
				WithSeed(1), // seeded: the same waits every run
			Observer: resilience.ObserverFunc(func(e resilience.Event) {
				switch e.Kind {
				case resilience.KindRetry:
					fmt.Fprintf(w, "%s  attempt %d failed: %v; waiting %v\n", since(), e.Attempt, e.Err, e.Delay.Round(time.Millisecond))
				case resilience.KindGiveUp:
					fmt.Fprintf(w, "%s  giving up after attempt %d: %v\n", since(), e.Attempt, e.Err)
				}
			}),
		}),
		timeout.New(200*time.Millisecond), // each attempt
	)

	// A dependency that refuses the first call, hangs on the second and
	// answers the third.
	calls := 0
	quote, err := resilience.DoValue(context.Background(), policy, func(ctx context.Context) (string, error) {
		calls++
		n := retry.Attempt(ctx)
		fmt.Fprintf(w, "%s  attempt %d: calling the exchange-rate service\n", since(), n)
		switch calls {
		case 1:
			return "", errors.New("connection refused")
		case 2:
			<-ctx.Done() // hangs until the per-attempt timeout fires
			return "", ctx.Err()
		default:
			return "EUR/USD 1.0842", nil
		}
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s  outcome: %q after %d attempts\n", since(), quote, calls)
	return nil
}
