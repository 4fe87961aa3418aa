package resiliencegrpc_test

import (
	"context"
	"fmt"
	"net"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/ratelimit"
	"github.com/magicmagnets/resilience/resiliencegrpc"
	"github.com/magicmagnets/resilience/retry"
	"github.com/magicmagnets/resilience/timeout"
)

// start serves f on a loopback port and returns its address and a stop
// function.
func start(f *flaky, opts ...grpc.ServerOption) (string, func()) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	s := grpc.NewServer(opts...)
	s.RegisterService(&flakyDesc, f)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(lis)
	}()
	return lis.Addr().String(), func() {
		s.Stop()
		<-done
	}
}

// A server briefly unavailable: the idempotent method is retried.
func ExampleUnaryClientInterceptor() {
	addr, stop := start(&flaky{unary: failFirst(1, codes.Unavailable)})
	defer stop()

	c := resiliencegrpc.Config{
		PerMethod: func(method string) resilience.Policy {
			return resilience.Chain(
				retry.New(retry.Config{MaxAttempts: 3, Backoff: backoff.Constant(time.Millisecond)}),
				breaker.New(breaker.Config{}), // one per method
				timeout.New(time.Second),      // each attempt
			)
		},
		Idempotent: func(method string) bool { return method == "/test.Flaky/Call" },
	}
	cc, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDisableRetry(), // the interceptor retries; grpc-go's retry would multiply the attempts
		grpc.WithUnaryInterceptor(resiliencegrpc.UnaryClientInterceptor(c)))
	if err != nil {
		panic(err)
	}
	defer cc.Close()

	out := new(wrapperspb.StringValue)
	err = cc.Invoke(context.Background(), "/test.Flaky/Call", wrapperspb.String("hello"), out)
	fmt.Println(out.GetValue(), err)
	// Output: hello <nil>
}

// A charge whose response is lost on the way back: the client retries with
// the same key, and the server replays the recorded response rather than
// charging again.
func ExampleIdempotencyUnaryServerInterceptor() {
	charges := 0
	f := &flaky{unary: func(_ context.Context, _ int, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		charges++ // calls are sequential here
		return wrapperspb.String("charged " + in.Value), nil
	}}
	lost := false
	loseFirst := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		resp, err := h(ctx, req)
		if !lost {
			lost = true
			return nil, status.Error(codes.Unavailable, "connection reset")
		}
		return resp, err
	}
	store := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	addr, stop := start(f, grpc.ChainUnaryInterceptor(loseFirst,
		resiliencegrpc.IdempotencyUnaryServerInterceptor(store, resiliencegrpc.IdempotencyConfig{})))
	defer stop()

	cc, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDisableRetry(),
		grpc.WithUnaryInterceptor(resiliencegrpc.UnaryClientInterceptor(resiliencegrpc.Config{
			Policy: retry.New(retry.Config{Backoff: backoff.Constant(time.Millisecond)}),
		})))
	if err != nil {
		panic(err)
	}
	defer cc.Close()

	// Charge is not idempotent: without a key it would not be retried.
	ctx := idempotency.WithKey(context.Background(), idempotency.NewKey())
	out := new(wrapperspb.StringValue)
	err = cc.Invoke(ctx, "/test.Flaky/Call", wrapperspb.String("$10"), out)
	fmt.Println(out.GetValue(), err, "- charges:", charges)
	// Output: charged $10 <nil> - charges: 1
}

// A server-side rate limit refuses a call: the client gets
// RESOURCE_EXHAUSTED and how long to wait.
func ExampleUnaryServerInterceptor() {
	limit := resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error {
		return &ratelimit.LimitedError{Wait: 1500 * time.Millisecond} // a limiter's refusal
	})
	addr, stop := start(&flaky{}, grpc.UnaryInterceptor(resiliencegrpc.UnaryServerInterceptor(limit)))
	defer stop()
	cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		panic(err)
	}
	defer cc.Close()

	var trailer metadata.MD
	err = cc.Invoke(context.Background(), "/test.Flaky/Call", wrapperspb.String("x"), new(wrapperspb.StringValue), grpc.Trailer(&trailer))
	fmt.Println(status.Code(err), trailer.Get(resiliencegrpc.PushbackKey))
	// Output: ResourceExhausted [1500]
}

// A client stream that fails before its answer is opened again, and the
// messages already sent are sent again.
func ExampleStreamClientInterceptor() {
	addr, stop := start(&flaky{collect: func(ss grpc.ServerStream, n int) error {
		if n == 1 {
			for ss.RecvMsg(new(wrapperspb.StringValue)) == nil {
			}
			return status.Error(codes.Unavailable, "restarting")
		}
		return joinAll(ss)
	}})
	defer stop()

	c := resiliencegrpc.Config{
		Policy:     retry.New(retry.Config{Backoff: backoff.Constant(time.Millisecond)}), // also re-opens streams
		Idempotent: func(string) bool { return true },
	}
	cc, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDisableRetry(),
		grpc.WithStreamInterceptor(resiliencegrpc.StreamClientInterceptor(c)))
	if err != nil {
		panic(err)
	}
	defer cc.Close()

	cs, err := cc.NewStream(context.Background(), &grpc.StreamDesc{ClientStreams: true}, "/test.Flaky/Collect")
	if err != nil {
		panic(err)
	}
	for _, part := range []string{"re", "sil", "ient"} {
		if err := cs.SendMsg(wrapperspb.String(part)); err != nil {
			panic(err)
		}
	}
	if err := cs.CloseSend(); err != nil {
		panic(err)
	}
	out := new(wrapperspb.StringValue)
	err = cs.RecvMsg(out)
	fmt.Println(out.GetValue(), err)
	// Output: resilient <nil>
}
