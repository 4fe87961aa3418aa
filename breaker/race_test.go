package breaker_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/magicmagnets/resilience/breaker"
)

// TestConcurrentCallersNeverExceedProbeLimit runs many callers through
// every state and checks that no more than HalfOpenProbes calls ever run
// while the breaker is half-open.
func TestConcurrentCallersNeverExceedProbeLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const probes = 2
		b := breaker.New(breaker.Config{WindowSize: 20, MinCalls: 10, OpenFor: 50 * time.Millisecond, HalfOpenProbes: probes})
		var inHalfOpen, maxInHalfOpen atomic.Int32
		var wg sync.WaitGroup
		for g := range 20 {
			wg.Go(func() {
				for i := range 200 {
					_ = b.Do(t.Context(), func(context.Context) error {
						half := b.State() == breaker.HalfOpen
						if half {
							n := inHalfOpen.Add(1)
							for m := maxInHalfOpen.Load(); n > m && !maxInHalfOpen.CompareAndSwap(m, n); m = maxInHalfOpen.Load() {
							}
						}
						time.Sleep(time.Millisecond)
						if half {
							inHalfOpen.Add(-1)
						}
						if (g+i)%3 == 0 {
							return errBoom
						}
						return nil
					})
				}
			})
		}
		wg.Wait()

		assert.LessOrEqual(t, maxInHalfOpen.Load(), int32(probes))
		assert.Positive(t, b.Metrics().Trips)
	})
}
