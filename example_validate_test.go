package resilience_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/magicmagnets/resilience"
)

// A server that answers with corrupted data is treated like one that fails:
// the operation validates what it received, the invalid answer becomes an
// error matching ErrInvalid, and the retry policy asks again.
func ExampleValidate() {
	type quote struct {
		OrderID string
		Amount  int
	}
	answers := []quote{
		{OrderID: "ord-9", Amount: 120}, // an answer for somebody else's order
		{OrderID: "ord-1", Amount: -40}, // an amount that cannot be right
		{OrderID: "ord-1", Amount: 120},
	}
	attempt := 0
	fetch := func(context.Context) (quote, error) {
		q := answers[attempt]
		attempt++
		return q, nil
	}
	check := func(q quote) error {
		switch {
		case q.OrderID != "ord-1":
			return fmt.Errorf("answer for order %s", q.OrderID)
		case q.Amount < 0:
			return errors.New("negative amount")
		}
		return nil
	}

	// A stand-in for retry.New: up to three attempts, reporting each failure.
	retry := resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error {
		var err error
		for i := 1; i <= 3; i++ {
			if err = fn(ctx); err == nil {
				return nil
			}
			fmt.Printf("attempt %d: %v (invalid: %t)\n", i, err, errors.Is(err, resilience.ErrInvalid))
		}
		return err
	})

	q, err := resilience.DoValue(context.Background(), retry, resilience.Validate(fetch, check))
	fmt.Println(q.OrderID, q.Amount, err)
	// Output:
	// attempt 1: resilience: invalid result: answer for order ord-9 (invalid: true)
	// attempt 2: resilience: invalid result: negative amount (invalid: true)
	// ord-1 120 <nil>
}
