package resiliencedebug_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/resiliencedebug"
)

func ok(context.Context) error { return nil }

func TestObserveOfAKnownNameAllocatesNothing(t *testing.T) {
	d := resiliencedebug.New(resiliencedebug.Config{})
	events := []resilience.Event{
		{Policy: "breaker", Name: "db", Kind: resilience.KindCall, Duration: time.Millisecond},
		{Policy: "breaker", Name: "db", Kind: resilience.KindCall, Err: errBoom},
		{Policy: "breaker", Name: "db", Kind: resilience.KindCall, Err: breaker.ErrOpen},
		{Policy: "breaker", Name: "db", Kind: resilience.KindRejected, Err: breaker.ErrOpen},
		{Policy: "breaker", Name: "db", Kind: resilience.KindStateChange, From: "closed", To: "open"},
		{Policy: "retry", Name: "db", Kind: resilience.KindRetry, Delay: time.Second},
	}
	for _, e := range events {
		d.Observe(e)
	}
	for _, e := range events {
		assert.Zero(t, testing.AllocsPerRun(100, func() { d.Observe(e) }), "%s %s", e.Policy, e.Kind)
	}
	// The "other" entry too.
	full := resiliencedebug.New(resiliencedebug.Config{MaxNames: 1})
	call(full, "retry", "a", 0, nil)
	e := resilience.Event{Policy: "retry", Name: "b", Kind: resilience.KindCall}
	assert.Zero(t, testing.AllocsPerRun(100, func() { full.Observe(e) }))
}

func BenchmarkObserve(b *testing.B) {
	d := resiliencedebug.New(resiliencedebug.Config{})
	e := resilience.Event{Policy: "breaker", Name: "payments", Kind: resilience.KindCall, Duration: 3 * time.Millisecond}
	d.Observe(e)
	b.ReportAllocs()
	for b.Loop() {
		d.Observe(e)
	}
}

func BenchmarkObserveParallel(b *testing.B) {
	d := resiliencedebug.New(resiliencedebug.Config{})
	e := resilience.Event{Policy: "breaker", Name: "payments", Kind: resilience.KindCall, Duration: 3 * time.Millisecond}
	d.Observe(e)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d.Observe(e)
		}
	})
}

// A breaker reporting to the dashboard: the cost the dashboard adds to a
// call.
func BenchmarkBreakerWithDashboard(b *testing.B) {
	d := resiliencedebug.New(resiliencedebug.Config{})
	br := breaker.New(breaker.Config{Name: "payments", Observer: d})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_ = br.Do(ctx, ok)
	}
}

func BenchmarkSnapshot(b *testing.B) {
	d := resiliencedebug.New(resiliencedebug.Config{})
	for i := range 20 {
		call(d, "retry", string(rune('a'+i)), time.Millisecond, nil)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = d.Snapshot()
	}
}
