package ratelimit_test

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/ratelimit"
)

// composers run fn under outer then inner, through Chain and through
// nested Do calls: both must give the outer token back.
var composers = map[string]func(outer, inner resilience.Policy) resilience.Policy{
	"Chain": func(outer, inner resilience.Policy) resilience.Policy { return resilience.Chain(outer, inner) },
	"nested Do": func(outer, inner resilience.Policy) resilience.Policy {
		return resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error {
			return outer.Do(ctx, func(ctx context.Context) error { return inner.Do(ctx, fn) })
		})
	},
}

// slow runs the rest of the chain after d, so that a refusal comes back
// after the outer token's due time has passed.
func slow(d time.Duration) resilience.Policy {
	return resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error {
		time.Sleep(d)
		return fn(ctx)
	})
}

func TestOuterLimitGetsItsTokenBackWhenThePerMinuteLimitInsideRefuses(t *testing.T) {
	for name, compose := range composers {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				perSecond := ratelimit.New(ratelimit.Config{Rate: 1})
				perMinute := ratelimit.New(ratelimit.Config{Rate: 2, Per: time.Minute, Burst: 2})
				p := compose(perSecond, resilience.Chain(slow(10*time.Millisecond), perMinute))
				require.NoError(t, p.Do(t.Context(), ok))
				time.Sleep(time.Second)
				require.NoError(t, p.Do(t.Context(), ok), "the per-minute limit's last token")
				time.Sleep(time.Second)
				err := p.Do(t.Context(), ok)
				require.ErrorIs(t, err, ratelimit.ErrLimited, "the per-minute limit refuses")
				assert.True(t, perSecond.Allow(), "the per-second token the refused call took came back")
				assert.False(t, perSecond.Allow(), "exactly one token came back")
			})
		})
	}
}

func TestOuterLimitGetsItsTokenBackWhenThePerSecondLimitInsideRefuses(t *testing.T) {
	for name, compose := range composers {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				perMinute := ratelimit.New(ratelimit.Config{Rate: 2, Per: time.Minute, Burst: 2})
				perSecond := ratelimit.New(ratelimit.Config{Rate: 1})
				p := compose(perMinute, perSecond)
				require.NoError(t, p.Do(t.Context(), ok))
				for range 5 {
					require.ErrorIs(t, p.Do(t.Context(), ok), ratelimit.ErrLimited, "the per-second limit refuses")
				}
				time.Sleep(time.Second)
				require.NoError(t, p.Do(t.Context(), ok), "the per-minute limit still has its second token: the refusals spent none")
				assert.False(t, perMinute.Allow(), "and no more than that")
			})
		})
	}
}

func TestAFailureInsideStackedLimitsSpendsTheirTokens(t *testing.T) {
	for name, compose := range composers {
		t.Run(name, func(t *testing.T) {
			perSecond := ratelimit.New(ratelimit.Config{Rate: 1})
			perMinute := ratelimit.New(ratelimit.Config{Rate: 2, Per: time.Minute, Burst: 2})
			err := compose(perSecond, perMinute).Do(t.Context(), func(context.Context) error { return errBoom })
			require.ErrorIs(t, err, errBoom)
			assert.False(t, perSecond.Allow(), "the failed call spent the outer token")
			assert.True(t, perMinute.Allow())
			assert.False(t, perMinute.Allow(), "and one of the inner two")
		})
	}
}

// Under concurrent callers, the calls that ran through two stacked limits
// keep within both, and the outer limit's give-backs never let through
// more than its rate.
func TestStackedLimitsUnderConcurrencyKeepBothRates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		outer := ratelimit.New(ratelimit.Config{Rate: 40, Burst: 4, MaxWait: 20 * time.Millisecond})
		inner := ratelimit.New(ratelimit.Config{Rate: 25, Burst: 2})
		p := resilience.Chain(outer, slow(time.Millisecond), inner)
		var mu sync.Mutex
		var ran []time.Time
		end := time.Now().Add(10 * time.Second)
		var wg sync.WaitGroup
		for i := range 12 {
			wg.Go(func() {
				for time.Now().Before(end) {
					_ = p.Do(t.Context(), func(context.Context) error {
						mu.Lock()
						ran = append(ran, time.Now())
						mu.Unlock()
						return nil
					})
					time.Sleep(time.Duration(1+i%5) * time.Millisecond)
				}
			})
		}
		wg.Wait()
		assertWithinRate(t, ran, 25, 2)
		assert.GreaterOrEqual(t, len(ran), 250, "the inner limit's rate is reached")
	})
}
