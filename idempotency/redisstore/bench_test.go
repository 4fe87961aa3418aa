package redisstore_test

import (
	"context"
	"sync/atomic"
	"testing"

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
