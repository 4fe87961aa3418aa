package breaker_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
)

func TestClosedSuccessAllocatesNothing(t *testing.T) {
	b := breaker.New(breaker.Config{})
	ctx := context.Background()

	allocs := testing.AllocsPerRun(1000, func() { _ = b.Do(ctx, ok) })

	assert.Zero(t, allocs)
}

func TestClosedFailureAllocatesNothing(t *testing.T) {
	b := breaker.New(breaker.Config{})
	b.Disable()
	ctx := context.Background()

	allocs := testing.AllocsPerRun(1000, func() { _ = b.Do(ctx, boom) })

	assert.Zero(t, allocs)
}

func TestOpenRejectionAllocatesNothing(t *testing.T) {
	b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: time.Hour})
	run(b, 1, boom)
	require.Equal(t, breaker.Open, b.State())
	ctx := context.Background()

	allocs := testing.AllocsPerRun(1000, func() { _ = b.Do(ctx, ok) })

	assert.Zero(t, allocs)
}

func TestForcedOpenRejectionAllocatesNothing(t *testing.T) {
	b := breaker.New(breaker.Config{})
	b.ForceOpen()
	ctx := context.Background()

	allocs := testing.AllocsPerRun(1000, func() { _ = b.Do(ctx, ok) })

	assert.Zero(t, allocs)
}

func TestAllowDoneAllocatesNothing(t *testing.T) {
	b := breaker.New(breaker.Config{SlowCallDuration: time.Second})

	allocs := testing.AllocsPerRun(1000, func() {
		p, err := b.Allow()
		if err == nil {
			p.Done(nil)
		}
	})

	assert.Zero(t, allocs)
}

func TestHalfOpenRejectionAllocatesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := halfOpen(t, 1)
		p, err := b.Allow()
		require.NoError(t, err)
		defer p.Done(nil)
		time.Sleep(200 * time.Millisecond) // the hint follows the probe's age
		ctx := context.Background()

		allocs := testing.AllocsPerRun(1000, func() {
			err := b.Do(ctx, ok)
			if h, _ := resilience.RetryAfter(err); h != 200*time.Millisecond {
				panic("the hint is not the probe's age")
			}
		})

		assert.Zero(t, allocs, "neither the rejection nor reading its hint allocates")
	})
}

func TestTimeWindowClosedSuccessAllocatesNothing(t *testing.T) {
	b := breaker.New(breaker.Config{Window: time.Minute, SlowCallDuration: time.Second})
	ctx := context.Background()

	allocs := testing.AllocsPerRun(1000, func() { _ = b.Do(ctx, ok) })

	assert.Zero(t, allocs)
}

func TestCallerEndedAndIgnoredResultsAllocateNothing(t *testing.T) {
	b := breaker.New(breaker.Config{SlowCallDuration: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rejected := func(context.Context) error { return breaker.ErrOpen }

	allocs := testing.AllocsPerRun(1000, func() {
		_ = b.Do(ctx, func(ctx context.Context) error { return ctx.Err() })
		_ = b.Do(context.Background(), rejected)
	})

	assert.Zero(t, allocs)
}
