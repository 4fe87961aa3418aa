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
	"github.com/magicmagnets/resilience/bulkhead"
	"github.com/magicmagnets/resilience/ratelimit"
)

// The rejection contract: a breaker does not count a rejection by a policy
// inside it as a failure of the dependency, since the call never reached
// it. breaker.Config.Ignore's default ignores every error matching
// resilience.ErrRejected; these tests prove it for the module's own
// rejections, and that the proof would fail if the default did not hold.

// countRejections is a breaker that would trip on the first failure were
// rejections counted.
func countRejections() breaker.Config {
	return breaker.Config{ConsecutiveFailures: 1, Ignore: func(error) bool { return false }}
}

func TestBreakerDoesNotCountAFullBulkheadAsAFailure(t *testing.T) {
	for _, c := range []breaker.Config{{}, {ConsecutiveFailures: 1}, {WindowSize: 10, MinCalls: 5}} {
		b := breaker.New(c)
		bh := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
		p := resilience.Chain(b, bh)
		held, err := bh.Allow()
		require.NoError(t, err)

		for range 50 {
			err := p.Do(context.Background(), ok)
			require.ErrorIs(t, err, bulkhead.ErrFull)
		}
		held.Done()
		m := b.Metrics()
		assert.Equal(t, breaker.Closed, m.State, "%+v", c)
		assert.Zero(t, m.Failures, "%+v", c)
		assert.Zero(t, m.Calls, "a rejection is not recorded at all (%+v)", c)
		assert.Zero(t, m.ConsecutiveFailures, "%+v", c)
		assert.Equal(t, uint64(50), bh.Metrics().Rejected)
		assert.NoError(t, p.Do(context.Background(), ok), "the breaker still admits calls")
	}
}

func TestBreakerPermitDoneIgnoresAFullBulkhead(t *testing.T) {
	b := breaker.New(breaker.Config{ConsecutiveFailures: 1})
	bh := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	held, _ := bh.Allow()
	defer held.Done()

	permit, err := b.Allow()
	require.NoError(t, err)
	_, err = bh.Allow()
	require.ErrorIs(t, err, bulkhead.ErrFull)
	permit.Done(err)
	assert.Equal(t, breaker.Closed, b.State())
	assert.Zero(t, b.Metrics().Failures)
}

func TestBreakerDoesNotCountARateLimitRefusalAsAFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{ConsecutiveFailures: 1})
		lim := ratelimit.New(ratelimit.Config{Rate: 1, Per: time.Minute})
		p := resilience.Chain(b, lim)

		require.NoError(t, p.Do(context.Background(), ok), "the one token")
		for range 20 {
			err := p.Do(context.Background(), ok)
			require.ErrorIs(t, err, ratelimit.ErrLimited)
			require.ErrorIs(t, err, resilience.ErrRejected)
		}
		m := b.Metrics()
		assert.Equal(t, breaker.Closed, m.State)
		assert.Zero(t, m.Failures)
		assert.Equal(t, 1, m.Calls, "only the admitted call is recorded")
	})
}

// TestAnInnerOpenBreakerIsNotAFailureOfTheOuter: a breaker's own rejection
// matches ErrRejected too, so an outer breaker ignores it.
func TestAnInnerOpenBreakerIsNotAFailureOfTheOuter(t *testing.T) {
	outer := breaker.New(breaker.Config{ConsecutiveFailures: 1})
	inner := breaker.New(breaker.Config{})
	inner.ForceOpen()
	for range 10 {
		err := resilience.Chain(outer, inner).Do(context.Background(), ok)
		require.ErrorIs(t, err, breaker.ErrOpen)
	}
	assert.Equal(t, breaker.Closed, outer.State())
	assert.Zero(t, outer.Metrics().Failures)
}

// TestRejectionsCountWhenIgnoreIsReplaced is the control: an Ignore that
// does not keep the default counts the same rejections, so the tests above
// would fail if the default did not ignore them.
func TestRejectionsCountWhenIgnoreIsReplaced(t *testing.T) {
	b := breaker.New(countRejections())
	bh := bulkhead.New(bulkhead.Config{MaxConcurrent: 1})
	held, _ := bh.Allow()
	defer held.Done()
	err := resilience.Chain(b, bh).Do(context.Background(), ok)
	require.ErrorIs(t, err, bulkhead.ErrFull)
	assert.Equal(t, breaker.Open, b.State())
	assert.Equal(t, 1, b.Metrics().Failures)

	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(countRejections())
		lim := ratelimit.New(ratelimit.Config{Rate: 1, Per: time.Minute})
		_ = lim.Do(context.Background(), ok) // spend the one token
		err := resilience.Chain(b, lim).Do(context.Background(), ok)
		require.ErrorIs(t, err, ratelimit.ErrLimited)
		assert.Equal(t, breaker.Open, b.State())
	})
}
