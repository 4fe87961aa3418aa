package resiliencegrpc_test

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/retry"
)

// The test service, registered by hand: Call (unary), Collect (client
// stream: joins what it receives), List (server stream: sends its request
// back, letter by letter) and Chat (bidi: echoes).
const (
	callMethod    = "/test.Flaky/Call"
	otherMethod   = "/test.Flaky/Other"
	collectMethod = "/test.Flaky/Collect"
	listMethod    = "/test.Flaky/List"
	chatMethod    = "/test.Flaky/Chat"
)

// flaky is the test server. Its hooks get the 1-based number of the
// call (per method kind); nil hooks answer with the request.
type flaky struct {
	calls    atomic.Int32 // unary calls, both methods
	streams  atomic.Int32 // streams opened
	unary    func(ctx context.Context, n int, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error)
	collect  func(ss grpc.ServerStream, n int) error
	list     func(ss grpc.ServerStream, n int, in *wrapperspb.StringValue) error
	chat     func(ss grpc.ServerStream, n int) error
	mu       sync.Mutex
	metadata []metadata.MD // the incoming metadata of every call, in order
}

func (f *flaky) record(ctx context.Context) {
	md, _ := metadata.FromIncomingContext(ctx)
	f.mu.Lock()
	f.metadata = append(f.metadata, md.Copy())
	f.mu.Unlock()
}

func (f *flaky) seen() []metadata.MD {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]metadata.MD(nil), f.metadata...)
}

func (f *flaky) call(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	n := int(f.calls.Add(1))
	f.record(ctx)
	if f.unary != nil {
		return f.unary(ctx, n, in)
	}
	return in, nil
}

func unaryHandler(method string) func(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
	return func(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
		in := new(wrapperspb.StringValue)
		if err := dec(in); err != nil {
			return nil, err
		}
		f := srv.(*flaky)
		if ic == nil {
			return f.call(ctx, in)
		}
		return ic(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: method}, func(ctx context.Context, req any) (any, error) {
			return f.call(ctx, req.(*wrapperspb.StringValue))
		})
	}
}

func collectHandler(srv any, ss grpc.ServerStream) error {
	f := srv.(*flaky)
	n := int(f.streams.Add(1))
	f.record(ss.Context())
	if f.collect != nil {
		return f.collect(ss, n)
	}
	return joinAll(ss)
}

// joinAll receives every message of ss and answers their concatenation.
func joinAll(ss grpc.ServerStream) error {
	var b strings.Builder
	for {
		in := new(wrapperspb.StringValue)
		err := ss.RecvMsg(in)
		if err == io.EOF {
			return ss.SendMsg(wrapperspb.String(b.String()))
		}
		if err != nil {
			return err
		}
		b.WriteString(in.Value)
	}
}

func listHandler(srv any, ss grpc.ServerStream) error {
	f := srv.(*flaky)
	n := int(f.streams.Add(1))
	f.record(ss.Context())
	in := new(wrapperspb.StringValue)
	if err := ss.RecvMsg(in); err != nil {
		return err
	}
	if f.list != nil {
		return f.list(ss, n, in)
	}
	for _, r := range in.Value {
		if err := ss.SendMsg(wrapperspb.String(string(r))); err != nil {
			return err
		}
	}
	return nil
}

func chatHandler(srv any, ss grpc.ServerStream) error {
	f := srv.(*flaky)
	n := int(f.streams.Add(1))
	if f.chat != nil {
		return f.chat(ss, n)
	}
	for {
		in := new(wrapperspb.StringValue)
		if err := ss.RecvMsg(in); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		if err := ss.SendMsg(in); err != nil {
			return err
		}
	}
}

var flakyDesc = grpc.ServiceDesc{
	ServiceName: "test.Flaky",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "Call", Handler: unaryHandler(callMethod)},
		{MethodName: "Other", Handler: unaryHandler(otherMethod)},
	},
	Streams: []grpc.StreamDesc{
		{StreamName: "Collect", Handler: collectHandler, ClientStreams: true},
		{StreamName: "List", Handler: listHandler, ServerStreams: true},
		{StreamName: "Chat", Handler: chatHandler, ClientStreams: true, ServerStreams: true},
	},
}

var (
	collectDesc = &flakyDesc.Streams[0]
	listDesc    = &flakyDesc.Streams[1]
	chatDesc    = &flakyDesc.Streams[2]
)

// serve starts f on a loopback port of its own and returns its address; the
// server stops when the test ends.
func serve(t testing.TB, f *flaky, opts ...grpc.ServerOption) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := grpc.NewServer(opts...)
	s.RegisterService(&flakyDesc, f)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(lis)
	}()
	t.Cleanup(func() {
		s.Stop()
		<-done
	})
	return lis.Addr().String()
}

// dial connects to addr; the connection closes when the test ends. Retry
// is off unless opts turn it on.
func dial(t testing.TB, addr string, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	opts = append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithDisableRetry()}, opts...)
	cc, err := grpc.NewClient(addr, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { cc.Close() })
	return cc
}

// fastRetry is a retry policy with short waits, for attempts counted, not
// timed.
func fastRetry(attempts int) *retry.Policy {
	return retry.New(retry.Config{MaxAttempts: attempts, Backoff: backoff.Constant(time.Millisecond)})
}

func call(ctx context.Context, cc *grpc.ClientConn, method, in string) (string, error) {
	out := new(wrapperspb.StringValue)
	err := cc.Invoke(ctx, method, wrapperspb.String(in), out)
	return out.GetValue(), err
}

func always(string) bool { return true }

func insecureCreds() credentials.TransportCredentials { return insecure.NewCredentials() }

// incoming returns ctx with incoming metadata kv, as a server sees it.
func incoming(ctx context.Context, kv ...string) context.Context {
	return metadata.NewIncomingContext(ctx, metadata.Pairs(kv...))
}
