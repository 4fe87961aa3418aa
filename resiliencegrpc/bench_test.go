package resiliencegrpc_test

import (
	"context"
	"testing"

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
