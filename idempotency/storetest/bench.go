package storetest

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/magicmagnets/resilience/idempotency"
)

// BenchStore is a store set up for one benchmark.
type BenchStore struct {
	Store idempotency.Store
	// Prefix starts every key the benchmark uses, so that runs sharing a
	// server never meet.
	Prefix string
	// RoundTrips, when set, returns the network round trips the store has
	// made so far; the benchmarks then report roundtrips/op.
	RoundTrips func() int64
}

// NewBenchStore makes a store for a benchmark whose operations come from
// callers concurrent goroutines: a store with a connection pool sizes it to
// callers.
type NewBenchStore func(b *testing.B, callers int) BenchStore

// benchResult is what a completed operation records: a small JSON body.
var benchResult = []byte(`{"charge":"ch_1","amount":5000,"currency":"eur"}`)

// BenchmarkNewKey measures the first run of an operation: Claim of a fresh
// key, then Complete. It reports roundtrips/op when the store counts them.
func BenchmarkNewKey(b *testing.B, newStore NewBenchStore) {
	s := warmStore(b, newStore, 1)
	before := roundTrips(s)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if err := newKey(b.Context(), s, strconv.Itoa(i)); err != nil {
			b.Fatal(err)
		}
	}
	reportRoundTrips(b, s, before)
}

// BenchmarkReplay measures a retry of a completed operation: one Claim that
// replays the recorded result. It reports roundtrips/op when the store
// counts them.
func BenchmarkReplay(b *testing.B, newStore NewBenchStore) {
	s := warmStore(b, newStore, 1)
	if err := newKey(b.Context(), s, "replayed"); err != nil {
		b.Fatal(err)
	}
	token := idempotency.NewToken() // a replay never stores it
	before := roundTrips(s)
	b.ReportAllocs()
	for b.Loop() {
		c, err := s.Store.Claim(b.Context(), s.Prefix+"replayed", "fp", token, 30*time.Second)
		if err != nil || !c.Replayed {
			b.Fatal(c, err)
		}
	}
	reportRoundTrips(b, s, before)
}

// BenchmarkThroughput runs new keys and replays from 1, 8 and 64 concurrent
// callers and reports operations per second, as sub-benchmarks named
// NewKey/callers=N and Replay/callers=N.
func BenchmarkThroughput(b *testing.B, newStore NewBenchStore) {
	for _, callers := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("NewKey/callers=%d", callers), func(b *testing.B) {
			s := warmStore(b, newStore, callers)
			concurrently(b, callers, func(i int64) error {
				return newKey(b.Context(), s, strconv.FormatInt(i, 10))
			})
		})
		b.Run(fmt.Sprintf("Replay/callers=%d", callers), func(b *testing.B) {
			s := warmStore(b, newStore, callers)
			if err := newKey(b.Context(), s, "replayed"); err != nil {
				b.Fatal(err)
			}
			token := idempotency.NewToken() // a replay never stores it
			concurrently(b, callers, func(int64) error {
				_, err := s.Store.Claim(b.Context(), s.Prefix+"replayed", "fp", token, 30*time.Second)
				return err
			})
		})
	}
}

// warmStore makes a store and runs every kind of call once from callers
// goroutines, so that scripts are loaded and statements prepared on every
// connection, as they are after a process's first calls.
func warmStore(b *testing.B, newStore NewBenchStore, callers int) BenchStore {
	s := newStore(b, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			ctx, key := b.Context(), s.Prefix+"warm"+strconv.Itoa(-i)
			c, err := s.Store.Claim(ctx, key, "", idempotency.NewToken(), time.Minute)
			if err == nil {
				err = s.Store.Extend(ctx, key, c.Lock, time.Minute)
			}
			if err == nil {
				err = s.Store.Complete(ctx, key, c.Lock, []byte("r"), time.Minute)
			}
			if err == nil {
				_, err = s.Store.Claim(ctx, key, "", idempotency.NewToken(), time.Minute)
			}
			if err == nil { // a released key, for the release statement or script
				rk := key + ":released"
				c, err = s.Store.Claim(ctx, rk, "", idempotency.NewToken(), time.Minute)
				if err == nil {
					err = s.Store.Release(ctx, rk, c.Lock, time.Minute)
				}
			}
			if err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	return s
}

// newKey claims a fresh key and completes it: the first run of an operation.
func newKey(ctx context.Context, s BenchStore, key string) error {
	c, err := s.Store.Claim(ctx, s.Prefix+key, "fp", idempotency.NewToken(), 30*time.Second)
	if err != nil {
		return err
	}
	return s.Store.Complete(ctx, s.Prefix+key, c.Lock, benchResult, time.Hour)
}

func roundTrips(s BenchStore) int64 {
	if s.RoundTrips == nil {
		return 0
	}
	return s.RoundTrips()
}

func reportRoundTrips(b *testing.B, s BenchStore, before int64) {
	if s.RoundTrips != nil {
		b.ReportMetric(float64(s.RoundTrips()-before)/float64(b.N), "roundtrips/op")
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
