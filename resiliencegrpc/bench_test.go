package resiliencegrpc_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/resiliencegrpc"
	"github.com/magicmagnets/resilience/retry"
)

// BenchmarkUnary: a unary call over loopback TCP that succeeds at once,
// bare and through the interceptor with a retry and a breaker. bench/
// measures the same against failsafe-go's interceptor.
func BenchmarkUnary(b *testing.B) {
	addr := serve(b, &flaky{})
	ic := resiliencegrpc.UnaryClientInterceptor(resiliencegrpc.Config{
		Policy:     resilience.Chain(retry.New(retry.Config{}), breaker.New(breaker.Config{})),
		Idempotent: always,
	})
	for _, bc := range []struct {
		name string
		opts []grpc.DialOption
	}{
		{"bare", nil},
		{"interceptor", []grpc.DialOption{grpc.WithUnaryInterceptor(ic)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			cc := dial(b, addr, bc.opts...)
			ctx := context.Background()
			in, out := wrapperspb.String("ping"), new(wrapperspb.StringValue)
			if err := cc.Invoke(ctx, callMethod, in, out); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := cc.Invoke(ctx, callMethod, in, out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUnaryOverhead: the interceptor alone, with a retry and a
// breaker, around an invoker that succeeds at once without a network: what
// it adds to every call. "metadata" is a call carrying outgoing metadata
// (an authorization and a request id, as most production calls do) and no
// idempotency key.
func BenchmarkUnaryOverhead(b *testing.B) {
	ic := resiliencegrpc.UnaryClientInterceptor(resiliencegrpc.Config{
		Policy:     resilience.Chain(retry.New(retry.Config{}), breaker.New(breaker.Config{})),
		Idempotent: always,
	})
	invoker := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error { return nil }
	for _, bc := range []struct {
		name string
		ctx  context.Context
	}{
		{"plain", context.Background()},
		{"metadata", withCallMetadata(context.Background())},
	} {
		b.Run(bc.name, func(b *testing.B) {
			in, out := wrapperspb.String("ping"), new(wrapperspb.StringValue)
			b.ReportAllocs()
			for b.Loop() {
				if err := ic(bc.ctx, callMethod, in, out, nil, invoker); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// withCallMetadata returns ctx with the outgoing metadata a production
// call typically carries.
func withCallMetadata(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer 0123456789abcdef", "x-request-id", "6f1c2a7e")
}

// BenchmarkUnaryPaired: the loopback call of BenchmarkUnary, bare and
// through the interceptor (retry and breaker) in turn, on two connections
// to the same server, the order swapped every iteration. Each call is timed
// on its own, and the benchmark reports the median of each and their ratio
// ("x-bare", the target being at most 1.05): two calls a few microseconds
// apart see the same load on the machine, where two benchmarks run one
// after the other may not, and a median ignores the calls a busy machine
// stalls.
func BenchmarkUnaryPaired(b *testing.B) {
	addr := serve(b, &flaky{})
	ic := resiliencegrpc.UnaryClientInterceptor(resiliencegrpc.Config{
		Policy:     resilience.Chain(retry.New(retry.Config{}), breaker.New(breaker.Config{})),
		Idempotent: always,
	})
	bare, wrapped := dial(b, addr), dial(b, addr, grpc.WithUnaryInterceptor(ic))
	ctx := context.Background()
	in, out := wrapperspb.String("ping"), new(wrapperspb.StringValue)
	timed := func(cc *grpc.ClientConn) time.Duration {
		start := time.Now()
		if err := cc.Invoke(ctx, callMethod, in, out); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	timed(bare) // connect outside the loop
	timed(wrapped)
	var bareTimes, wrappedTimes []time.Duration
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			bareTimes = append(bareTimes, timed(bare))
			wrappedTimes = append(wrappedTimes, timed(wrapped))
		} else {
			wrappedTimes = append(wrappedTimes, timed(wrapped))
			bareTimes = append(bareTimes, timed(bare))
		}
	}
	mb, mw := median(bareTimes), median(wrappedTimes)
	b.ReportMetric(float64(mb), "bare-ns/call")
	b.ReportMetric(float64(mw), "interceptor-ns/call")
	b.ReportMetric(float64(mw)/float64(mb), "x-bare")
}

// median returns the median of ds, which it sorts.
func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}
