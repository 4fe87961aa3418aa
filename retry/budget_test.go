package retry_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/resiliencetest"
	"github.com/magicmagnets/resilience/retry"
)

// down stands for a dependency that fails every call with errFlaky and
// counts the calls.
func down() *resiliencetest.Injector { return resiliencetest.Always(resiliencetest.Fail(errFlaky)) }

// TestBudgetCapsRetriesToRatio: with a 10% budget and no floor, 1000 failing
// requests through a 3-attempt policy make about 1100 calls, not 3000.
func TestBudgetCapsRetriesToRatio(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		budget := retry.NewBudget(retry.BudgetConfig{Ratio: 0.1, MinPerSecond: -1})
		p := retry.New(retry.Config{MaxAttempts: 3, Backoff: backoff.Constant(0), Budget: budget})
		dep, denied := down(), 0
		for range 1000 {
			err := resilience.Chain(p, dep).Do(t.Context(), succeed)
			if assert.Error(t, err) && errorIsBudget(err) {
				denied++
			}
		}
		assert.Equal(t, 1100, dep.Calls())
		assert.Greater(t, denied, 900)
	})
}

func errorIsBudget(err error) bool {
	return errors.Is(err, retry.ErrBudgetExhausted) && errors.Is(err, errFlaky)
}

func TestBudgetDenialMatchesBothErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		budget := retry.NewBudget(retry.BudgetConfig{Ratio: 0.01, MinPerSecond: -1})
		p := retry.New(retry.Config{MaxAttempts: 3, Budget: budget})
		dep := down()
		err := resilience.Chain(p, dep).Do(t.Context(), succeed)
		assert.ErrorIs(t, err, retry.ErrBudgetExhausted)
		assert.ErrorIs(t, err, errFlaky)
		assert.Equal(t, 1, dep.Calls())
		assert.EqualError(t, err, "retry: budget exhausted: flaky")
	})
}

// TestBudgetFloorAllowsRetriesAtLowTraffic: a lone request may still retry
// thanks to the per-second floor, and the floor refills over time.
func TestBudgetFloorAllowsRetriesAtLowTraffic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		budget := retry.NewBudget(retry.BudgetConfig{Ratio: 0.1, MinPerSecond: 2})
		p := retry.New(retry.Config{MaxAttempts: 2, Backoff: backoff.Constant(0), Budget: budget})
		dep := down()
		for range 3 {
			_ = resilience.Chain(p, dep).Do(t.Context(), succeed)
		}
		assert.Equal(t, 5, dep.Calls(), "two retries from the floor's burst, the third denied")
		time.Sleep(time.Second)
		dep = down()
		_ = resilience.Chain(p, dep).Do(t.Context(), succeed)
		assert.Equal(t, 2, dep.Calls(), "the floor refilled")
	})
}

// TestBudgetIsSharedByPolicies: two policies drawing on one budget.
func TestBudgetIsSharedByPolicies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		budget := retry.NewBudget(retry.BudgetConfig{Ratio: 0.5, MinPerSecond: -1})
		a := retry.New(retry.Config{MaxAttempts: 2, Backoff: backoff.Constant(0), Budget: budget})
		b := retry.New(retry.Config{MaxAttempts: 2, Backoff: backoff.Constant(0), Budget: budget})
		dep := down()
		for range 10 {
			_ = resilience.Chain(a, dep).Do(t.Context(), succeed)
			_ = resilience.Chain(b, dep).Do(t.Context(), succeed)
		}
		assert.Equal(t, 30, dep.Calls(), "20 requests earn 10 retries between them")
	})
}

// TestBudgetForgetsOldRequests: requests older than the TTL stop counting,
// so quiet periods do not bank an unbounded retry allowance.
func TestBudgetForgetsOldRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		budget := retry.NewBudget(retry.BudgetConfig{Ratio: 0.5, MinPerSecond: -1, TTL: 10 * time.Second})
		ok := retry.New(retry.Config{MaxAttempts: 1, Budget: budget})
		for range 100 {
			require.NoError(t, ok.Do(t.Context(), func(context.Context) error { return nil }))
		}
		time.Sleep(11 * time.Second)
		p := retry.New(retry.Config{MaxAttempts: 2, Backoff: backoff.Constant(0), Budget: budget})
		dep := down()
		err := resilience.Chain(p, dep).Do(t.Context(), succeed)
		assert.ErrorIs(t, err, retry.ErrBudgetExhausted, "1 request in the window earns 0.5 retries")
		assert.Equal(t, 1, dep.Calls())
	})
}

func TestBudgetRejectsBadConfig(t *testing.T) {
	assert.PanicsWithValue(t, "retry: budget ratio -0.1 outside [0, 1000]", func() { retry.NewBudget(retry.BudgetConfig{Ratio: -0.1}) })
	assert.Panics(t, func() { retry.NewBudget(retry.BudgetConfig{TTL: -1}) })
}

// TestBudgetExportedMethodsSpendTheRatio: Request and AllowRetry are what a
// policy other than retry spends the budget with: ten requests at a 20%
// ratio and no floor cover two extra sends and refuse the third, and a
// refusal spends nothing.
func TestBudgetExportedMethodsSpendTheRatio(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBudget(retry.BudgetConfig{Ratio: 0.2, MinPerSecond: -1})
		assert.False(t, b.AllowRetry(), "no request counted yet")
		for range 10 {
			b.Request()
		}
		assert.True(t, b.AllowRetry())
		assert.True(t, b.AllowRetry())
		assert.False(t, b.AllowRetry())
		assert.False(t, b.AllowRetry(), "a refusal spent nothing, and still refuses")
		for range 5 {
			b.Request()
		}
		assert.True(t, b.AllowRetry(), "five more requests earn one more")
		assert.False(t, b.AllowRetry())
	})
}
