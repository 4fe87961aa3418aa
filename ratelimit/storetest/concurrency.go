package storetest

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/magicmagnets/resilience/ratelimit"
)

// concurrentTakers runs 8 goroutines that each take a token every
// millisecond for a window of 300ms from a limit of 100 a second with a
// burst of 5: far more demand than the limit admits. GCRA admits at most
// Burst + Rate·elapsed tokens over the window, and, with takers always
// waiting, not much fewer.
func concurrentTakers(t *testing.T, e *env) {
	const (
		takers = 8
		window = 300 * time.Millisecond
		burst  = 5
		rate   = 100 // per second
	)
	key, l := e.key("k"), ratelimit.Limit{Rate: rate, Per: time.Second, Burst: burst}
	var allowed, denied atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range takers {
		wg.Go(func() {
			for time.Since(start) < window {
				d, err := e.s.Take(t.Context(), key, l, 1)
				if !assert.NoError(t, err) {
					return
				}
				if d.Allowed {
					allowed.Add(1)
				} else {
					denied.Add(1)
				}
				if d.Remaining < 0 || d.Remaining > burst-1 || d.RetryAfter < 0 || d.ResetAfter < 0 {
					assert.Fail(t, "decision out of range", "%+v", d)
					return
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	most := burst + int64(rate*elapsed.Seconds()) + 1
	assert.LessOrEqual(t, allowed.Load(), most, "admitted over %v, with %d refused", elapsed, denied.Load())
	least := int64(0.8 * (burst + rate*window.Seconds()))
	assert.GreaterOrEqual(t, allowed.Load(), least, "admitted over %v, with %d refused", elapsed, denied.Load())
	assert.Positive(t, denied.Load())
}
