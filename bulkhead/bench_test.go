package bulkhead_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/magicmagnets/resilience/bulkhead"
)

func BenchmarkAllowDone(b *testing.B) {
	bh := bulkhead.New(bulkhead.Config{})
	b.ReportAllocs()
	for b.Loop() {
		p, err := bh.Allow()
		if err != nil {
			b.Fatal(err)
		}
		p.Done()
	}
}

// BenchmarkAllowDoneParallel is BenchmarkAllowDone from GOMAXPROCS
// goroutines on one bulkhead; run it with -cpu 1,2. Every call adds to the
// one shared state word twice, so throughput cannot grow with the
// processors: compare it with a buffered channel's in bench/.
func BenchmarkAllowDoneParallel(b *testing.B) {
	bh := bulkhead.New(bulkhead.Config{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p, err := bh.Allow()
			if err != nil {
				b.Error(err)
				return
			}
			p.Done()
		}
	})
}

func BenchmarkDo(b *testing.B) {
	bh := bulkhead.New(bulkhead.Config{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := bh.Do(ctx, ok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQueuedCall measures a call that waits in the queue and is handed
// the slot: its allocations are the waiter's (and, with MaxWait, its
// timer's). One helper goroutine makes the queued calls; the loop holds the
// only slot, waits until the helper is queued, and releases it.
func BenchmarkQueuedCall(b *testing.B) {
	for _, c := range []struct {
		name    string
		maxWait time.Duration
	}{{"MaxWait=0", 0}, {"MaxWait=1m", time.Minute}} {
		b.Run(c.name, func(b *testing.B) {
			bh := bulkhead.New(bulkhead.Config{MaxConcurrent: 1, MaxQueue: 1, MaxWait: c.maxWait})
			ctx := context.Background()
			start, done := make(chan struct{}), make(chan error)
			go func() {
				for range start {
					done <- bh.Do(ctx, ok)
				}
			}()
			defer close(start)
			b.ReportAllocs()
			for b.Loop() {
				p, err := bh.Allow()
				if err != nil {
					b.Fatal(err)
				}
				start <- struct{}{}
				for bh.Metrics().Queued == 0 {
					runtime.Gosched()
				}
				p.Done()
				if err := <-done; err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
