package resiliencetest_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/resiliencetest"
)

func BenchmarkInjectorPass(b *testing.B) {
	b.ReportAllocs()
	in := resiliencetest.FailFirst(0, nil)
	ctx := context.Background()
	op := func(context.Context) error { return nil }
	for b.Loop() {
		_ = in.Do(ctx, op)
	}
}

func BenchmarkInjectorAtRate(b *testing.B) {
	b.ReportAllocs()
	in := resiliencetest.AtRate(0.5, 1, resiliencetest.Fail(nil))
	ctx := context.Background()
	op := func(context.Context) error { return nil }
	for b.Loop() {
		_ = in.Do(ctx, op)
	}
}

func BenchmarkInjectorParallel(b *testing.B) {
	b.ReportAllocs()
	in := resiliencetest.AtRate(0.5, 1, resiliencetest.Fail(nil))
	op := func(context.Context) error { return nil }
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			_ = in.Do(ctx, op)
		}
	})
}

func BenchmarkRecorderObserve(b *testing.B) {
	b.ReportAllocs()
	var rec resiliencetest.Recorder
	e := resilience.Event{Policy: "retry", Kind: resilience.KindRetry, Attempt: 1}
	n := 0
	for b.Loop() {
		rec.Observe(e)
		if n++; n == 1024 { // keep the slice at a steady size
			rec.Reset()
			n = 0
		}
	}
}

// The handler's overhead per request, without a network: passing through,
// and passing through with a Content-Digest (which buffers the response).
func BenchmarkFaultyHandler(b *testing.B) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(orderJSON))
	})
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{
		{"bare", ok},
		{"pass", resiliencetest.FaultyHandler(ok, resiliencetest.HandlerConfig{})},
		{"digest", resiliencetest.FaultyHandler(ok, resiliencetest.HandlerConfig{Digest: true})},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bc.h.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}
