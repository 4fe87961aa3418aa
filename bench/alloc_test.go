package bench

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/retry"
)

// Allocation counts are deterministic, unlike timings, so the fast paths'
// are checked by ordinary tests. The policies are the ones benchmarked.

// TestRetrySuccessAllocatesOnlyTheAttemptContext: a first attempt that
// succeeds costs one allocation, the context that answers retry.Attempt.
func TestRetrySuccessAllocatesOnlyTheAttemptContext(t *testing.T) {
	for _, p := range []*retry.Policy{ourRetry(), retry.New(retry.Config{})} {
		ctx := context.Background()

		allocs := testing.AllocsPerRun(1000, func() { _ = p.Do(ctx, succeed) })

		assert.LessOrEqual(t, allocs, 1.0)
	}
}

func TestBreakerClosedSuccessAllocatesNothing(t *testing.T) {
	b := breaker.New(breaker.Config{})
	ctx := context.Background()

	allocs := testing.AllocsPerRun(1000, func() { _ = b.Do(ctx, succeed) })

	assert.Zero(t, allocs)
}

func TestBreakerAllowDoneAllocatesNothing(t *testing.T) {
	b := breaker.New(breaker.Config{})

	allocs := testing.AllocsPerRun(1000, func() {
		if p, err := b.Allow(); err == nil {
			p.Done(nil)
		}
	})

	assert.Zero(t, allocs)
}

func TestBreakerOpenRejectionAllocatesNothing(t *testing.T) {
	b := breaker.New(breaker.Config{OpenFor: time.Hour})
	require.True(t, trip(subject{"resilience", b.Do}))
	require.Equal(t, breaker.Open, b.State())
	ctx := context.Background()

	allocs := testing.AllocsPerRun(1000, func() { _ = b.Do(ctx, succeed) })

	assert.Zero(t, allocs)
}

func TestBreakerForcedOpenRejectionAllocatesNothing(t *testing.T) {
	b := breaker.New(breaker.Config{})
	b.ForceOpen()
	ctx := context.Background()

	allocs := testing.AllocsPerRun(1000, func() { _ = b.Do(ctx, succeed) })

	assert.Zero(t, allocs)
}
