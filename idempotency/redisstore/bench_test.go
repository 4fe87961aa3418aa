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

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/redisstore"
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

// benchStore returns a store whose client counts round trips, with its
// scripts loaded (as they are after a process's first calls).
func benchStore(b *testing.B, poolSize int) (*redisstore.Store, *roundTrips) {
	opts, err := redis.ParseURL(redisURL(b))
	if err != nil {
		b.Fatal(err)
	}
	opts.PoolSize = poolSize
	client := redis.NewClient(opts)
	b.Cleanup(func() { _ = client.Close() })
	store := redisstore.New(client, redisstore.Config{Prefix: "bench:" + idempotency.NewKey() + ":"})
	warm(b, store)
	rt := &roundTrips{}
	client.AddHook(rt)
	return store, rt
}

func warm(b *testing.B, s idempotency.Store) {
	ctx := b.Context()
	c, err := s.Claim(ctx, "warm", "", time.Minute)
	if err == nil {
		err = s.Extend(ctx, "warm", c.Lock, time.Minute)
	}
	if err == nil {
		err = s.Complete(ctx, "warm", c.Lock, []byte("r"), time.Minute)
	}
	if err == nil {
		_, err = s.Claim(ctx, "warm", "", time.Minute)
	}
	if err != nil {
		b.Fatal(err)
	}
}

var result = []byte(`{"charge":"ch_1","amount":5000,"currency":"eur"}`)

// newKey claims a fresh key and completes it: the first run of an operation.
func newKey(ctx context.Context, s idempotency.Store, key string) error {
	c, err := s.Claim(ctx, key, "fp", 30*time.Second)
	if err != nil {
		return err
	}
	return s.Complete(ctx, key, c.Lock, result, time.Hour)
}

func BenchmarkNewKey(b *testing.B) {
	s, rt := benchStore(b, 1)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if err := newKey(b.Context(), s, strconv.Itoa(i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rt.n.Load())/float64(b.N), "roundtrips/op")
}

func BenchmarkReplay(b *testing.B) {
	s, rt := benchStore(b, 1)
	if err := newKey(b.Context(), s, "replayed"); err != nil {
		b.Fatal(err)
	}
	rt.n.Store(0)
	b.ReportAllocs()
	for b.Loop() {
		c, err := s.Claim(b.Context(), "replayed", "fp", 30*time.Second)
		if err != nil || !c.Replayed {
			b.Fatal(c, err)
		}
	}
	b.ReportMetric(float64(rt.n.Load())/float64(b.N), "roundtrips/op")
}

// BenchmarkThroughput runs new keys and replays from 1, 8 and 64 concurrent
// callers sharing one client, and reports operations per second.
func BenchmarkThroughput(b *testing.B) {
	for _, callers := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("NewKey/callers=%d", callers), func(b *testing.B) {
			s, _ := benchStore(b, callers)
			concurrently(b, callers, func(i int64) error { return newKey(b.Context(), s, strconv.FormatInt(i, 10)) })
		})
		b.Run(fmt.Sprintf("Replay/callers=%d", callers), func(b *testing.B) {
			s, _ := benchStore(b, callers)
			if err := newKey(b.Context(), s, "replayed"); err != nil {
				b.Fatal(err)
			}
			concurrently(b, callers, func(int64) error {
				_, err := s.Claim(b.Context(), "replayed", "fp", 30*time.Second)
				return err
			})
		})
	}
}

// concurrently runs op b.N times from callers goroutines and reports ops/s.
func concurrently(b *testing.B, callers int, op func(i int64) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for range callers {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				if err := op(i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "ops/s")
}
