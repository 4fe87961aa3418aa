package resilienceotel_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.uber.org/goleak"

	"github.com/magicmagnets/resilience/resilienceotel"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// setup returns an Observer recording on a fresh meter provider, and the
// reader to collect its data points with.
func setup(t *testing.T) (*resilienceotel.Observer, *sdkmetric.ManualReader) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = provider.Shutdown(context.Background()) })
	obs, err := resilienceotel.New(provider.Meter(resilienceotel.ScopeName))
	require.NoError(t, err)
	return obs, reader
}

// collected is one collection, by instrument name.
type collected map[string]metricdata.Metrics

func collect(t *testing.T, reader *sdkmetric.ManualReader) collected {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	out := collected{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// attrs encodes a data point's attributes as "k=v,k=v", keys sorted.
func attrs(s attribute.Set) string { return s.Encoded(attribute.DefaultEncoder()) }

// counts returns the int64 sum named name, by attribute set. A missing
// instrument gives an empty map.
func (c collected) counts(t *testing.T, name string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	m, ok := c[name]
	if !ok {
		return out
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "%s is a %T, not an int64 sum", name, m.Data)
	require.True(t, sum.IsMonotonic, "%s is not monotonic", name)
	for _, dp := range sum.DataPoints {
		out[attrs(dp.Attributes)] = dp.Value
	}
	return out
}

// hist is a histogram data point's count and sum.
type hist struct {
	Count uint64
	Sum   float64
}

// histograms returns the float64 histogram named name, by attribute set.
func (c collected) histograms(t *testing.T, name string) map[string]hist {
	t.Helper()
	out := map[string]hist{}
	m, ok := c[name]
	if !ok {
		return out
	}
	h, ok := m.Data.(metricdata.Histogram[float64])
	require.True(t, ok, "%s is a %T, not a float64 histogram", name, m.Data)
	for _, dp := range h.DataPoints {
		out[attrs(dp.Attributes)] = hist{Count: dp.Count, Sum: dp.Sum}
	}
	return out
}
