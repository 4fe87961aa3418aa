package resilienceotel_test

import (
	"context"
	"errors"
	"fmt"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/resilienceotel"
	"github.com/magicmagnets/resilience/retry"
)

func Example() {
	// A meter provider with a reader; a real service would use a periodic
	// reader with an exporter (OTLP, Prometheus) instead.
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())

	obs, err := resilienceotel.New(provider.Meter(resilienceotel.ScopeName))
	if err != nil {
		panic(err)
	}
	r := retry.New(retry.Config{Name: "payments", MaxAttempts: 3, Backoff: backoff.Constant(0), Observer: obs})

	calls := 0
	_ = r.Do(context.Background(), func(context.Context) error {
		calls++
		if calls < 3 {
			return errors.New("unavailable")
		}
		return nil
	})

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		panic(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		switch data := m.Data.(type) {
		case metricdata.Sum[int64]:
			for _, dp := range data.DataPoints {
				kind, _ := dp.Attributes.Value("kind")
				fmt.Printf("%s kind=%s: %d\n", m.Name, kind.AsString(), dp.Value)
			}
		case metricdata.Histogram[int64]:
			for _, dp := range data.DataPoints {
				fmt.Printf("%s: %d recorded, %d in all\n", m.Name, dp.Count, dp.Sum)
			}
		case metricdata.Histogram[float64]:
			for _, dp := range data.DataPoints {
				if outcome, ok := dp.Attributes.Value("outcome"); ok {
					fmt.Printf("%s outcome=%s: %d recorded\n", m.Name, outcome.AsString(), dp.Count)
				} else {
					fmt.Printf("%s: %d recorded, %gs in all\n", m.Name, dp.Count, dp.Sum)
				}
			}
		}
	}
	// Unordered output:
	// resilience.call.duration outcome=success: 1 recorded
	// resilience.call.attempts: 1 recorded, 3 in all
	// resilience.events kind=retry: 2
	// resilience.retry.delay: 2 recorded, 0s in all
}
