package redisstore_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/ratelimit"
	"github.com/magicmagnets/resilience/ratelimit/redisstore"
	"github.com/magicmagnets/resilience/resiliencetest"
)

// Four replicas, each with its own connection pool and store, share one
// limit of 200 a second with a burst of 10, hammered by 8 goroutines each
// (a Take every 2ms each, over ten times the limit) for 10 seconds: the fleet admits Rate·10s + Burst within 5%.
func TestFleetOfFourReplicasAdmitsTheLimitWithinFivePercentOverTenSeconds(t *testing.T) {
	const (
		replicas = 4
		takers   = 8 // per replica
		rate     = 200
		burst    = 10
		window   = 10 * time.Second
	)
	prefix := unique("fleet")
	l := ratelimit.Limit{Rate: rate, Burst: burst}
	var rec resiliencetest.Recorder
	stores := make([]*redisstore.Store, replicas)
	for i := range stores {
		// A long Timeout: this test measures the shared limit, and a busy CI
		// machine under the race detector can delay a Take past the
		// default's 50ms, which would decide it locally.
		stores[i] = redisstore.New(newClient(t), redisstore.Config{Prefix: prefix, Replicas: replicas, Timeout: 2 * time.Second, Observer: &rec})
	}

	var allowed, denied, failed atomic.Int64
	perReplica := make([]atomic.Int64, replicas)
	var wg sync.WaitGroup
	start := time.Now()
	for i, s := range stores {
		for range takers {
			wg.Go(func() {
				for time.Since(start) < window {
					d, err := s.Take(t.Context(), "shared", l, 1)
					switch {
					case err != nil:
						failed.Add(1)
					case d.Allowed:
						allowed.Add(1)
						perReplica[i].Add(1)
					default:
						denied.Add(1)
					}
					time.Sleep(2 * time.Millisecond)
				}
			})
		}
	}
	wg.Wait()
	elapsed := time.Since(start)

	want := rate*window.Seconds() + burst
	got := float64(allowed.Load())
	t.Logf("admitted %.0f of %d in %v (want %.0f ±5%%), per replica %v", got, allowed.Load()+denied.Load(), elapsed, want, perReplica)
	require.Zero(t, failed.Load(), "every Take was decided")
	assert.Empty(t, rec.Events(), "Redis decided every Take")
	assert.InEpsilon(t, want, got, 0.05)
	assert.Greater(t, denied.Load(), 10*allowed.Load(), "the demand was far above the limit")
	for i := range perReplica {
		assert.Positive(t, perReplica[i].Load(), "replica %d was admitted", i)
	}
}
