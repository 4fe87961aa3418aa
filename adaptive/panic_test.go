package adaptive_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/adaptive"
)

// panicOn is an observer that panics on events of kind k.
func panicOn(k resilience.Kind) resilience.Observer {
	return resilience.ObserverFunc(func(e resilience.Event) {
		if e.Kind == k {
			panic("observer")
		}
	})
}

func TestLimiterPanickingObserverLeavesNoSlotHeld(t *testing.T) {
	for _, k := range []resilience.Kind{resilience.KindLimitChange, resilience.KindCall, resilience.KindRejected} {
		t.Run(string(k), func(t *testing.T) {
			var l *adaptive.Limiter
			ctx := context.Background()
			if k == resilience.KindRejected {
				l = adaptive.NewLimiter(adaptive.LimiterConfig{InitialLimit: 1, MinLimit: 1, MaxLimit: 1, Observer: panicOn(k)})
				p, err := l.Allow()
				require.NoError(t, err)
				assert.Panics(t, func() { _ = l.Do(ctx, func(context.Context) error { return nil }) })
				p.Ignore()
			} else {
				// A drop takes the limit from 2 to 1, emitting KindLimitChange,
				// then KindCall.
				l = adaptive.NewLimiter(adaptive.LimiterConfig{Algorithm: adaptive.AIMD, InitialLimit: 2, MinLimit: 1, Observer: panicOn(k)})
				assert.Panics(t, func() { _ = l.Do(ctx, func(context.Context) error { return context.DeadlineExceeded }) })
				assert.Equal(t, 1, l.Limit(), "the drop was recorded before the observer ran")
			}
			assert.Equal(t, 0, l.InFlight())
			_, err := l.Allow()
			assert.NoError(t, err, "the slot is free again")
		})
	}
}

func TestThrottlerPanickingObserverLeavesItUsable(t *testing.T) {
	th := adaptive.NewThrottler(adaptive.ThrottlerConfig{MinRequests: 1, Rand: never, Observer: panicOn(resilience.KindCall)})
	assert.Panics(t, func() { _ = th.Do(context.Background(), overloaded) })
	assert.InDelta(t, 0.5, th.RejectProbability(), 1e-12, "the overload was counted before the observer ran")
	assert.Panics(t, func() { _ = th.Do(context.Background(), overloaded) })
	assert.InDelta(t, 2/3.0, th.RejectProbability(), 1e-12, "and the lock was not left held")
}
