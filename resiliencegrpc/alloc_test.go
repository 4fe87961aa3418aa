package resiliencegrpc_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/resiliencegrpc"
	"github.com/magicmagnets/resilience/retry"
)

// succeedInvoker is an invoker that succeeds at once without a network.
func succeedInvoker(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error {
	return nil
}

// TestUnaryAllocations pins what the interceptor allocates on a call that
// succeeds at once, with a retry and a breaker and no observer: the call
// itself, its attempt's method value and retry's attempt context, whether
// or not the call carries outgoing metadata. On a
// real connection grpc-go adds two more for the trailer option (a longer
// option slice, the trailer's copy); bench/ measures that call against a
// bare one.
func TestUnaryAllocations(t *testing.T) {
	ic := resiliencegrpc.UnaryClientInterceptor(resiliencegrpc.Config{
		Policy:     resilience.Chain(retry.New(retry.Config{}), breaker.New(breaker.Config{})),
		Idempotent: always,
	})
	ctx := context.Background()
	in, out := wrapperspb.String("ping"), new(wrapperspb.StringValue)
	for name, ctx := range map[string]context.Context{"plain": ctx, "with metadata": withCallMetadata(ctx)} {
		n := testing.AllocsPerRun(1000, func() {
			if err := ic(ctx, callMethod, in, out, nil, succeedInvoker); err != nil {
				t.Fatal(err)
			}
		})
		assert.LessOrEqual(t, n, 3.0, "%s: the outgoing metadata is not copied", name)
	}
}

// TestIdempotentIsAskedOncePerCall: Config.Idempotent, which may be a
// lookup of the caller's, is asked once per call, unary or stream, and not
// again for whether the call may be hedged.
func TestIdempotentIsAskedOncePerCall(t *testing.T) {
	var asked atomic.Int32
	c := resiliencegrpc.Config{Idempotent: func(string) bool { asked.Add(1); return true }}
	ctx := context.Background()
	in, out := wrapperspb.String("ping"), new(wrapperspb.StringValue)
	require.NoError(t, resiliencegrpc.UnaryClientInterceptor(c)(ctx, callMethod, in, out, nil, succeedInvoker))
	assert.Equal(t, int32(1), asked.Load(), "unary")

	asked.Store(0)
	streamer := func(context.Context, *grpc.StreamDesc, *grpc.ClientConn, string, ...grpc.CallOption) (grpc.ClientStream, error) {
		return nil, nil
	}
	_, err := resiliencegrpc.StreamClientInterceptor(c)(ctx, &grpc.StreamDesc{ServerStreams: true}, nil, callMethod, streamer)
	require.NoError(t, err)
	assert.Equal(t, int32(1), asked.Load(), "stream")
}
