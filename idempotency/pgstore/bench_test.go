package pgstore_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/pgstore"
)

// roundTrips counts the queries and statement preparations a pool sends:
// each is one network round trip.
type roundTrips struct{ n atomic.Int64 }

func (c *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (*roundTrips) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *roundTrips) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (*roundTrips) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

// benchStore returns a store whose pool of conns connections counts round
// trips, with its statements prepared on every connection (as they are
// after a process's first calls).
func benchStore(b *testing.B, conns int) (*pgstore.Store, *roundTrips, string) {
	cfg, err := pgxpool.ParseConfig(databaseURL(b))
	if err != nil {
		b.Fatal(err)
	}
	rt := &roundTrips{}
	cfg.ConnConfig.Tracer = rt
	cfg.MaxConns, cfg.MinConns = int32(conns), int32(conns)
	store := pgstore.New(openPool(b, cfg), pgstore.Config{})
	prefix := "bench:" + idempotency.NewKey() + ":"
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() { warm(b, store, prefix+strconv.Itoa(-i)) })
	}
	wg.Wait()
	rt.n.Store(0)
	return store, rt, prefix
}

func warm(b *testing.B, s idempotency.Store, key string) {
	ctx := b.Context()
	c, err := s.Claim(ctx, key, "", time.Minute)
	if err == nil {
		err = s.Extend(ctx, key, c.Lock, time.Minute)
	}
	if err == nil {
		err = s.Complete(ctx, key, c.Lock, []byte("r"), time.Minute)
	}
	if err == nil {
		_, err = s.Claim(ctx, key, "", time.Minute)
	}
	if err != nil {
		b.Error(err)
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
	s, rt, prefix := benchStore(b, 1)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if err := newKey(b.Context(), s, prefix+strconv.Itoa(i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rt.n.Load())/float64(b.N), "roundtrips/op")
}

func BenchmarkReplay(b *testing.B) {
	s, rt, prefix := benchStore(b, 1)
	if err := newKey(b.Context(), s, prefix+"replayed"); err != nil {
		b.Fatal(err)
	}
	rt.n.Store(0)
	b.ReportAllocs()
	for b.Loop() {
		c, err := s.Claim(b.Context(), prefix+"replayed", "fp", 30*time.Second)
		if err != nil || !c.Replayed {
			b.Fatal(c, err)
		}
	}
	b.ReportMetric(float64(rt.n.Load())/float64(b.N), "roundtrips/op")
}

// BenchmarkThroughput runs new keys and replays from 1, 8 and 64 concurrent
// callers, each with a connection of its own, and reports operations per
// second.
func BenchmarkThroughput(b *testing.B) {
	for _, callers := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("NewKey/callers=%d", callers), func(b *testing.B) {
			s, _, prefix := benchStore(b, callers)
			concurrently(b, callers, func(i int64) error {
				return newKey(b.Context(), s, prefix+strconv.FormatInt(i, 10))
			})
		})
		b.Run(fmt.Sprintf("Replay/callers=%d", callers), func(b *testing.B) {
			s, _, prefix := benchStore(b, callers)
			if err := newKey(b.Context(), s, prefix+"replayed"); err != nil {
				b.Fatal(err)
			}
			concurrently(b, callers, func(int64) error {
				_, err := s.Claim(b.Context(), prefix+"replayed", "fp", 30*time.Second)
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
