package resilience_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
)

// retryN is a minimal retrying policy: it runs fn up to n times and stops at
// the first success.
func retryN(n int) resilience.Policy {
	return resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error {
		var err error
		for range n {
			if err = fn(ctx); err == nil {
				return nil
			}
		}
		return err
	})
}

type order struct {
	ID     string
	Amount int
}

var errNegative = errors.New("negative amount")

func checkOrder(o order) error {
	if o.Amount < 0 {
		return errNegative
	}
	return nil
}

// replies returns an operation that answers with each of the given orders in
// turn, and a pointer to the number of calls made.
func replies(orders ...order) (func(context.Context) (order, error), *int) {
	calls := 0
	return func(context.Context) (order, error) {
		o := orders[min(calls, len(orders)-1)]
		calls++
		return o, nil
	}, &calls
}

func TestValidateReturnsAValidValue(t *testing.T) {
	fn, calls := replies(order{ID: "a", Amount: 5})
	got, err := resilience.Validate(fn, checkOrder)(context.Background())
	require.NoError(t, err)
	assert.Equal(t, order{ID: "a", Amount: 5}, got)
	assert.Equal(t, 1, *calls)
}

func TestValidateTurnsAnInvalidValueIntoErrInvalid(t *testing.T) {
	fn, _ := replies(order{ID: "a", Amount: -1})
	got, err := resilience.Validate(fn, checkOrder)(context.Background())
	assert.ErrorIs(t, err, resilience.ErrInvalid)
	assert.ErrorIs(t, err, errNegative)
	assert.Equal(t, "resilience: invalid result: negative amount", err.Error())
	assert.Zero(t, got, "the rejected value must not be returned")
}

func TestValidatePassesFnErrorsThroughWithoutChecking(t *testing.T) {
	want := errors.New("connection reset")
	checked := false
	fn := func(context.Context) (order, error) { return order{}, want }
	_, err := resilience.Validate(fn, func(order) error { checked = true; return nil })(context.Background())
	assert.ErrorIs(t, err, want)
	assert.NotErrorIs(t, err, resilience.ErrInvalid)
	assert.False(t, checked)
}

func TestValidateWithNilFuncIsRejectedByDoValue(t *testing.T) {
	var fn func(context.Context) (order, error)
	assert.Nil(t, resilience.Validate(fn, checkOrder))
	_, err := resilience.DoValue(context.Background(), retryN(3), resilience.Validate(fn, checkOrder))
	assert.ErrorIs(t, err, resilience.ErrNilFunc)
}

func TestValidateWithNilCheckAcceptsEverything(t *testing.T) {
	fn, _ := replies(order{ID: "a", Amount: -1})
	got, err := resilience.Validate(fn, nil)(context.Background())
	require.NoError(t, err)
	assert.Equal(t, -1, got.Amount)
}

func TestValidatedOperationIsRetriedUntilValid(t *testing.T) {
	fn, calls := replies(order{ID: "a", Amount: -1}, order{ID: "a", Amount: -7}, order{ID: "a", Amount: 5})
	got, err := resilience.DoValue(context.Background(), retryN(3), resilience.Validate(fn, checkOrder))
	require.NoError(t, err)
	assert.Equal(t, order{ID: "a", Amount: 5}, got)
	assert.Equal(t, 3, *calls)
}

func TestValidatedOperationFailsWhenEveryAnswerIsInvalid(t *testing.T) {
	fn, calls := replies(order{ID: "a", Amount: -1})
	got, err := resilience.DoValue(context.Background(), retryN(3), resilience.Validate(fn, checkOrder))
	assert.ErrorIs(t, err, resilience.ErrInvalid)
	assert.ErrorIs(t, err, errNegative)
	assert.Zero(t, got)
	assert.Equal(t, 3, *calls)
}
