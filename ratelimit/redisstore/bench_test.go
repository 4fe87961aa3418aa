package redisstore_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/magicmagnets/resilience/ratelimit"
	"github.com/magicmagnets/resilience/ratelimit/redisstore"
)

// roundTrips counts the commands and pipelines a client sends: each is one
// network round trip.
type roundTrips struct{ n atomic.Int64 }

func (*roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}

func (c *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmds)
	}
}

var benchCallers = []int{1, 8, 64}

// benchClient returns a client with a connection per caller whose round
// trips are counted.
func benchClient(b *testing.B, callers int) (*redis.Client, *roundTrips) {
	opts, err := redis.ParseURL(redisURL(b))
	if err != nil {
		b.Fatal(err)
	}
	opts.ContextTimeoutEnabled = true
	opts.PoolSize = callers
	client := redis.NewClient(opts)
	b.Cleanup(func() { _ = client.Close() })
	rt := &roundTrips{}
	client.AddHook(rt)
	return client, rt
}

// throughput runs op b.N times from callers goroutines, caller i calling
// op(i), after a first call from each (which opens its connection and
// loads the script), and reports ops/s and roundtrips/op.
func throughput(b *testing.B, callers int, rt *roundTrips, op func(i int) error) {
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			if err := op(i); err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
	before := rt.n.Load()
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range callers {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				if err := op(i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "ops/s")
	b.ReportMetric(float64(rt.n.Load()-before)/float64(b.N), "roundtrips/op")
}

// BenchmarkTake measures allowed decisions from 1, 8 and 64 concurrent
// callers sharing one client, each taking from its own key a limit that
// always has a token, so that every decision writes. bench.sh compares its
// ops/s with redis-benchmark's EVALSHA of a trivial script.
func BenchmarkTake(b *testing.B) {
	l := ratelimit.Limit{Rate: 1e9, Burst: 1000}
	for _, callers := range benchCallers {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			client, rt := benchClient(b, callers)
			// A Timeout of a second: a benchmark measures throughput, and a
			// decision late on a busy machine must not be decided locally.
			s := redisstore.New(client, redisstore.Config{Prefix: unique("bench"), Timeout: time.Second})
			keys := make([]string, callers)
			for i := range keys {
				keys[i] = "caller-" + strconv.Itoa(i)
			}
			throughput(b, callers, rt, func(i int) error {
				d, err := s.Take(b.Context(), keys[i], l, 1)
				if err == nil && !d.Allowed {
					err = fmt.Errorf("denied: %+v", d)
				}
				return err
			})
		})
	}
}

// BenchmarkTrivialScript measures go-redis running a script that does
// nothing (return 1) with EVALSHA, as BenchmarkTake's callers do: what the
// client library alone costs, which bench.sh sets beside redis-benchmark's
// figure to show how much of the gap is the store's.
func BenchmarkTrivialScript(b *testing.B) {
	script := redis.NewScript("return 1")
	for _, callers := range benchCallers {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			client, rt := benchClient(b, callers)
			keys := []string{"k"}
			throughput(b, callers, rt, func(int) error {
				return script.Run(b.Context(), client, keys).Err()
			})
		})
	}
}
