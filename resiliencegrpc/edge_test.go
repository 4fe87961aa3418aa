package resiliencegrpc_test

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/resiliencegrpc"
	"github.com/magicmagnets/resilience/resiliencetest"
	"github.com/magicmagnets/resilience/timeout"
)

// A server may answer DEADLINE_EXCEEDED on the deadline it was sent before
// the client's own timer fires: under a per-attempt timeout that is the
// attempt's deadline, and retried; without one it is the caller's, and not.
func TestUnaryServerDeadlineExceededIsRetriedOnlyUnderAnAttemptDeadline(t *testing.T) {
	for _, tc := range []struct {
		name  string
		p     resilience.Policy
		calls int32
	}{
		{"attempt deadline", resilience.Chain(fastRetry(3), timeout.New(time.Minute)), 2},
		{"caller deadline", fastRetry(3), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &flaky{unary: failFirst(1, codes.DeadlineExceeded)}
			cc := clientConn(t, f, resiliencegrpc.Config{Policy: tc.p, Idempotent: always})
			ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
			defer cancel()
			_, _ = call(ctx, cc, callMethod, "x")
			assert.Equal(t, tc.calls, f.calls.Load())
		})
	}
}

func TestStreamSetupFailuresAreRetriedByThePolicy(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := lis.Addr().String()
	require.NoError(t, lis.Close()) // nothing listens there now
	var rec resiliencetest.Recorder
	c := resiliencegrpc.Config{Policy: resilience.Chain(fastRetry(3), &rec), Idempotent: always}
	cc := dial(t, addr, grpc.WithStreamInterceptor(resiliencegrpc.StreamClientInterceptor(c)))
	_, err = cc.NewStream(t.Context(), collectDesc, collectMethod)
	assert.Equal(t, codes.Unavailable, status.Code(err))
	assert.Len(t, rec.Attempts(), 3)
}

func TestStreamOverTheReplayBoundAfterAFailedSendReturnsEOF(t *testing.T) {
	f := &flaky{collect: func(ss grpc.ServerStream, n int) error {
		return status.Error(codes.Unavailable, "refused at once")
	}}
	c := streamConfig()
	c.MaxReplayBytes = 8
	cc := clientConn(t, f, c)
	cs, err := cc.NewStream(t.Context(), collectDesc, collectMethod)
	require.NoError(t, err)
	require.NoError(t, cs.SendMsg(wrapperspb.String("a")))
	_, _ = cs.Header() // the attempt has ended
	require.NoError(t, cs.SendMsg(wrapperspb.String("b")), "kept for the next attempt")
	assert.ErrorIs(t, cs.SendMsg(wrapperspb.String("0123456789")), io.EOF, "over the bound: no next attempt")
	err = cs.RecvMsg(new(wrapperspb.StringValue))
	assert.Equal(t, codes.Unavailable, status.Code(err))
	assert.Equal(t, "refused at once", status.Convert(err).Message())
	assert.EqualValues(t, 1, f.streams.Load())
}

func TestStreamTrailerAndContextAreTheCurrentAttempts(t *testing.T) {
	f := &flaky{collect: func(ss grpc.ServerStream, n int) error {
		ss.SetTrailer(map[string][]string{"attempt": {string(rune('0' + n))}})
		if n == 1 {
			return status.Error(codes.Unavailable, "again")
		}
		return joinAll(ss)
	}}
	cc := clientConn(t, f, streamConfig())
	cs, err := cc.NewStream(t.Context(), collectDesc, collectMethod)
	require.NoError(t, err)
	require.NoError(t, cs.CloseSend())
	require.NoError(t, cs.RecvMsg(new(wrapperspb.StringValue)))
	assert.ErrorIs(t, cs.RecvMsg(new(wrapperspb.StringValue)), io.EOF)
	assert.Equal(t, []string{"2"}, cs.Trailer().Get("attempt"))
	assert.Error(t, cs.Context().Err(), "the stream's context ends with the stream")
}

// downStore is a store whose claims fail.
type downStore struct{ idempotency.Store }

func (downStore) Claim(context.Context, string, string, string, time.Duration) (idempotency.Claim, error) {
	return idempotency.Claim{}, errors.New("connection refused")
}

func TestIdempotencyStoreDownIsUnavailableAndRunsNothing(t *testing.T) {
	f := &flaky{}
	cc := dial(t, idemServer(t, f, downStore{}, resiliencegrpc.IdempotencyConfig{}))
	_, err := call(withKeyMD(t.Context(), resiliencegrpc.KeyMetadata, "k"), cc, callMethod, "x")
	assert.Equal(t, codes.Unavailable, status.Code(err))
	assert.Zero(t, f.calls.Load())
}

func TestIdempotencyRecordsWhatAHandlerReturnsThatIsNoProtoMessage(t *testing.T) {
	f := &flaky{}
	notProto := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		_, err := h(ctx, req)
		return struct{}{}, err // what the guard below sees as the response
	}
	store := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	g := resiliencegrpc.IdempotencyUnaryServerInterceptor(store, resiliencegrpc.IdempotencyConfig{})
	info := &grpc.UnaryServerInfo{FullMethod: callMethod}
	ctx := incoming(t.Context(), resiliencegrpc.KeyMetadata, "k")
	handler := func(ctx context.Context, req any) (any, error) {
		return notProto(ctx, req, info, func(ctx context.Context, req any) (any, error) { return f.call(ctx, req.(*wrapperspb.StringValue)) })
	}
	resp, err := g(ctx, wrapperspb.String("x"), info, handler)
	require.NoError(t, err)
	assert.Equal(t, struct{}{}, resp, "the first caller gets the handler's answer")
	_, err = g(ctx, wrapperspb.String("x"), info, handler)
	assert.Equal(t, codes.Internal, status.Code(err))
	assert.EqualValues(t, 1, f.calls.Load())

	_, err = g(ctx, "not a message", info, handler)
	assert.Equal(t, codes.Internal, status.Code(err), "a request that is no proto message cannot be fingerprinted")
	assert.EqualValues(t, 1, f.calls.Load())
}
