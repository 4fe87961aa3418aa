package redisstore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/redisstore"
	"github.com/magicmagnets/resilience/idempotency/storetest"
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

// benchStore returns a store on a client with a pool of one connection per
// caller whose round trips are counted.
func benchStore(b *testing.B, callers int) storetest.BenchStore {
	opts, err := redis.ParseURL(redisURL(b))
	if err != nil {
		b.Fatal(err)
	}
	opts.PoolSize = callers
	client := redis.NewClient(opts)
	b.Cleanup(func() { _ = client.Close() })
	rt := &roundTrips{}
	client.AddHook(rt)
	return storetest.BenchStore{
		Store:      redisstore.New(client, redisstore.Config{}),
		Prefix:     "bench:" + idempotency.NewKey() + ":",
		RoundTrips: rt.n.Load,
	}
}

func BenchmarkNewKey(b *testing.B) { storetest.BenchmarkNewKey(b, benchStore) }
func BenchmarkReplay(b *testing.B) { storetest.BenchmarkReplay(b, benchStore) }

// BenchmarkThroughput runs new keys and replays from 1, 8 and 64 concurrent
// callers sharing one client, and reports operations per second.
func BenchmarkThroughput(b *testing.B) { storetest.BenchmarkThroughput(b, benchStore) }

// BenchmarkClientSet runs go-redis SET of a 3-byte value (redis-benchmark's
// default) from 1, 8 and 64 concurrent callers on a client made as
// benchStore makes its own, and reports operations per second: what the
// client library alone reaches, which bench.sh sets beside
// redis-benchmark's SET to show how much of the gap is the store's.
func BenchmarkClientSet(b *testing.B) {
	for _, callers := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			opts, err := redis.ParseURL(redisURL(b))
			if err != nil {
				b.Fatal(err)
			}
			opts.PoolSize = callers
			client := redis.NewClient(opts)
			b.Cleanup(func() { _ = client.Close() })
			key := "bench:" + idempotency.NewKey() + ":set"
			var wg sync.WaitGroup
			for range callers { // open every connection first
				wg.Go(func() {
					if err := client.Set(b.Context(), key, "xxx", 0).Err(); err != nil {
						b.Error(err)
					}
				})
			}
			wg.Wait()
			var next atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for range callers {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						if err := client.Set(b.Context(), key, "xxx", 0).Err(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "ops/s")
		})
	}
}
