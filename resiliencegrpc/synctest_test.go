package resiliencegrpc_test

import (
	"context"
	"io"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/resiliencegrpc"
	"github.com/magicmagnets/resilience/retry"
)

// These tests run the interceptors over fake invokers and streams, with no
// network, inside a synctest bubble, so that waits are measured exactly.

// setTrailer stores md where the call's grpc.Trailer option asks.
func setTrailer(opts []grpc.CallOption, md metadata.MD) {
	for _, o := range opts {
		if t, ok := o.(grpc.TrailerCallOption); ok {
			*t.TrailerAddr = md
		}
	}
}

func pushback(ms string) metadata.MD { return metadata.Pairs(resiliencegrpc.PushbackKey, ms) }

// slowRetry waits an hour between attempts unless a pushback says less.
func slowRetry() *retry.Policy {
	return retry.New(retry.Config{MaxAttempts: 3, Backoff: backoff.Constant(time.Hour), MaxDelay: 2 * time.Hour})
}

func TestUnaryWaitsThePushbackInsteadOfTheBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ic := resiliencegrpc.UnaryClientInterceptor(resiliencegrpc.Config{Policy: slowRetry(), Idempotent: always})
		var at []time.Duration
		start := time.Now()
		invoker := func(_ context.Context, _ string, _, _ any, _ *grpc.ClientConn, opts ...grpc.CallOption) error {
			at = append(at, time.Since(start))
			if len(at) == 1 {
				setTrailer(opts, pushback("2000"))
				return status.Error(codes.Unavailable, "busy")
			}
			return nil
		}
		err := ic(t.Context(), callMethod, wrapperspb.String("x"), new(wrapperspb.StringValue), nil, invoker)
		require.NoError(t, err)
		require.Len(t, at, 2)
		assert.GreaterOrEqual(t, at[1], 2*time.Second, "the pushback")
		assert.LessOrEqual(t, at[1], 2200*time.Millisecond, "plus at most a tenth of jitter")
	})
}

func TestUnaryPushbackIsCappedByMaxDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := retry.New(retry.Config{MaxAttempts: 2, MaxDelay: time.Second})
		ic := resiliencegrpc.UnaryClientInterceptor(resiliencegrpc.Config{Policy: p, Idempotent: always})
		start := time.Now()
		n := 0
		invoker := func(_ context.Context, _ string, _, _ any, _ *grpc.ClientConn, opts ...grpc.CallOption) error {
			if n++; n == 1 {
				setTrailer(opts, pushback("99999999999999999999")) // too large for a Duration
				return status.Error(codes.Unavailable, "busy")
			}
			return nil
		}
		require.NoError(t, ic(t.Context(), callMethod, wrapperspb.String("x"), new(wrapperspb.StringValue), nil, invoker))
		assert.LessOrEqual(t, time.Since(start), 1100*time.Millisecond)
		assert.GreaterOrEqual(t, time.Since(start), time.Second)
	})
}

// fakeStream is a client stream that fails, with trailer, on its first
// RecvMsg if fail is set, and otherwise answers how many messages it got,
// once CloseSend was called, then io.EOF.
type fakeStream struct {
	grpc.ClientStream
	ctx      context.Context
	fail     bool
	trailer  metadata.MD
	opts     []grpc.CallOption
	mu       sync.Mutex
	got      []string
	closed   bool
	answered bool
}

func (s *fakeStream) Context() context.Context { return s.ctx }
func (s *fakeStream) SendMsg(m any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, m.(*wrapperspb.StringValue).Value)
	return nil
}
func (s *fakeStream) CloseSend() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}
func (s *fakeStream) RecvMsg(m any) error {
	if s.fail {
		setTrailer(s.opts, s.trailer)
		return status.Error(codes.Unavailable, "lost")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case !s.closed:
		return status.Error(codes.Internal, "answered before CloseSend")
	case s.answered:
		return io.EOF
	}
	s.answered = true
	m.(*wrapperspb.StringValue).Value = string(rune('0' + len(s.got)))
	return nil
}

func TestStreamReopensAfterThePushbackAndReplays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ic := resiliencegrpc.StreamClientInterceptor(resiliencegrpc.Config{Policy: slowRetry(), Idempotent: always})
		var streams []*fakeStream
		var opened []time.Duration
		start := time.Now()
		streamer := func(ctx context.Context, _ *grpc.StreamDesc, _ *grpc.ClientConn, _ string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			s := &fakeStream{ctx: ctx, fail: len(streams) == 0, trailer: pushback("500"), opts: opts}
			streams = append(streams, s)
			opened = append(opened, time.Since(start))
			return s, nil
		}
		cs, err := ic(t.Context(), collectDesc, nil, collectMethod, streamer)
		require.NoError(t, err)
		for _, p := range []string{"a", "b"} {
			require.NoError(t, cs.SendMsg(wrapperspb.String(p)))
		}
		require.NoError(t, cs.CloseSend())
		out := new(wrapperspb.StringValue)
		require.NoError(t, cs.RecvMsg(out))
		assert.Equal(t, "2", out.Value)
		require.Len(t, streams, 2)
		assert.Equal(t, []string{"a", "b"}, streams[1].got, "replayed")
		assert.True(t, streams[1].closed, "CloseSend replayed")
		assert.GreaterOrEqual(t, opened[1], 500*time.Millisecond)
		assert.LessOrEqual(t, opened[1], 550*time.Millisecond)
		assert.Error(t, streams[0].ctx.Err(), "the replaced attempt's context is cancelled")
		assert.ErrorIs(t, cs.RecvMsg(out), io.EOF)
	})
}
