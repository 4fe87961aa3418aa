package bench

import (
	"context"
	"math/rand/v2"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go/circuitbreaker"
	"github.com/failsafe-go/failsafe-go/failsafegrpc"
	"github.com/failsafe-go/failsafe-go/retrypolicy"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/resiliencegrpc"
	"github.com/magicmagnets/resilience/retry"
)

// echoMethod is the one method of the benchmark's service, registered by
// hand: it answers its request.
const echoMethod = "/bench.Echo/Echo"

var echoDesc = grpc.ServiceDesc{
	ServiceName: "bench.Echo",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{MethodName: "Echo", Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
		in := new(wrapperspb.StringValue)
		if err := dec(in); err != nil {
			return nil, err
		}
		return in, nil
	}}},
}

// echoServer serves echoDesc on a loopback port until the benchmark ends.
func echoServer(b *testing.B) string {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	s := grpc.NewServer()
	s.RegisterService(&echoDesc, struct{}{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(lis)
	}()
	b.Cleanup(func() {
		s.Stop()
		<-done
	})
	return lis.Addr().String()
}

// grpcSubjects are the client interceptors compared, each with a retry of
// three attempts and a breaker with its library's defaults; "call" has none.
func grpcSubjects() []struct {
	lib string
	ic  grpc.UnaryClientInterceptor
} {
	ours := resiliencegrpc.UnaryClientInterceptor(resiliencegrpc.Config{
		Policy:     resilience.Chain(retry.New(retry.Config{MaxAttempts: retryAttempts}), breaker.New(breaker.Config{})),
		Idempotent: func(string) bool { return true },
	})
	theirs := failsafegrpc.NewUnaryClientInterceptor[any](
		retrypolicy.NewBuilder[any]().WithMaxAttempts(retryAttempts).Build(),
		circuitbreaker.NewBuilder[any]().WithFailureThresholdRatio(50, 100).Build())
	return []struct {
		lib string
		ic  grpc.UnaryClientInterceptor
	}{{"resilience", ours}, {"failsafe", theirs}, {"call", nil}}
}

// BenchmarkGRPCUnary: one unary call over loopback TCP that succeeds at
// once, through each library's client interceptor (retry and breaker), and
// bare ("call").
//
// Each run takes the libraries in a new random order: in a fixed one, the
// first ran every round just after the server started and the previous
// benchmark's garbage, and came out slower by more than the interceptors
// cost. Besides ns/op it reports cpu-ns/op, the CPU time the whole process
// (client, server and their transports) spent per call, which a busy
// machine disturbs far less than the wall clock.
func BenchmarkGRPCUnary(b *testing.B) {
	addr := echoServer(b)
	subjects := grpcSubjects()
	rand.Shuffle(len(subjects), func(i, j int) { subjects[i], subjects[j] = subjects[j], subjects[i] })
	for _, s := range subjects {
		b.Run("lib="+s.lib, func(b *testing.B) {
			opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithDisableRetry()}
			if s.ic != nil {
				opts = append(opts, grpc.WithUnaryInterceptor(s.ic))
			}
			cc, err := grpc.NewClient(addr, opts...)
			if err != nil {
				b.Fatal(err)
			}
			defer cc.Close()
			ctx := context.Background()
			in, out := wrapperspb.String("ping"), new(wrapperspb.StringValue)
			if err := cc.Invoke(ctx, echoMethod, in, out); err != nil { // connect outside the loop
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				if err := cc.Invoke(ctx, echoMethod, in, out); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu)
		})
	}
}

// BenchmarkGRPCUnaryPaired: the call of BenchmarkGRPCUnary through every
// library in turn, one connection each to the same server, the order
// rotated every iteration. Each call is timed on its own; the benchmark
// reports each library's median ("resilience-ns/call" and so on) and ours
// as a multiple of the bare call's and of failsafe-go's ("x-call",
// "x-failsafe"). Calls a few microseconds apart see the same load on the
// machine, where sub-benchmarks run one after the other may not, and a
// median ignores the calls a busy machine stalls: on a shared machine this
// resolves the interceptors' microsecond where BenchmarkGRPCUnary's means
// cannot. ns/op is one call through every library.
func BenchmarkGRPCUnaryPaired(b *testing.B) {
	addr := echoServer(b)
	subjects := grpcSubjects()
	ccs := make([]*grpc.ClientConn, len(subjects))
	times := make([][]time.Duration, len(subjects))
	ctx := context.Background()
	in, out := wrapperspb.String("ping"), new(wrapperspb.StringValue)
	timed := func(cc *grpc.ClientConn) time.Duration {
		start := time.Now()
		if err := cc.Invoke(ctx, echoMethod, in, out); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	for i, s := range subjects {
		opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithDisableRetry()}
		if s.ic != nil {
			opts = append(opts, grpc.WithUnaryInterceptor(s.ic))
		}
		cc, err := grpc.NewClient(addr, opts...)
		if err != nil {
			b.Fatal(err)
		}
		defer cc.Close()
		ccs[i] = cc
		timed(cc) // connect outside the loop
	}
	b.ReportAllocs()
	for n := 0; b.Loop(); n++ {
		for k := range ccs {
			i := (n + k) % len(ccs)
			times[i] = append(times[i], timed(ccs[i]))
		}
	}
	med := map[string]float64{}
	for i, s := range subjects {
		slices.Sort(times[i])
		med[s.lib] = float64(times[i][len(times[i])/2])
		b.ReportMetric(med[s.lib], s.lib+"-ns/call")
	}
	b.ReportMetric(med["resilience"]/med["call"], "x-call")
	b.ReportMetric(med["resilience"]/med["failsafe"], "x-failsafe")
}
