package resilienceotel_test

import (
	"context"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/resilienceotel"
)

func benchObserver(b *testing.B) *resilienceotel.Observer {
	b.Helper()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() { _ = provider.Shutdown(context.Background()) })
	obs, err := resilienceotel.New(provider.Meter(resilienceotel.ScopeName))
	if err != nil {
		b.Fatal(err)
	}
	return obs
}

func BenchmarkObserve(b *testing.B) {
	cases := []struct {
		name string
		e    resilience.Event
	}{
		{"call", resilience.Event{Policy: "breaker", Name: "payments", Kind: resilience.KindCall, Duration: 20 * time.Millisecond}},
		{"call_failed", resilience.Event{Policy: "breaker", Name: "payments", Kind: resilience.KindCall, Duration: 20 * time.Millisecond, Err: errBoom}},
		{"rejected", resilience.Event{Policy: "breaker", Name: "payments", Kind: resilience.KindRejected, Delay: time.Second}},
		{"retry", resilience.Event{Policy: "retry", Name: "payments", Kind: resilience.KindRetry, Attempt: 1, Delay: 100 * time.Millisecond}},
		{"state_change", resilience.Event{Policy: "breaker", Name: "payments", Kind: resilience.KindStateChange, From: "closed", To: "open"}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			obs := benchObserver(b)
			b.ReportAllocs()
			for b.Loop() {
				obs.Observe(c.e)
			}
		})
	}
}

func BenchmarkObserveParallel(b *testing.B) {
	obs := benchObserver(b)
	e := resilience.Event{Policy: "retry", Name: "payments", Kind: resilience.KindRetry, Attempt: 1, Delay: 100 * time.Millisecond}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			obs.Observe(e)
		}
	})
}
