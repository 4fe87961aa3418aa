package resiliencegrpc_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/resiliencegrpc"
	"github.com/magicmagnets/resilience/retry"
	"github.com/magicmagnets/resilience/timeout"
)

func streamConfig() resiliencegrpc.Config {
	return resiliencegrpc.Config{Idempotent: always, StreamRetry: func(string) *retry.Policy { return fastRetry(3) }}
}

// collect sends parts on a Collect stream and returns the answer.
func collect(ctx context.Context, t *testing.T, cc *grpc.ClientConn, parts ...string) (string, error) {
	t.Helper()
	cs, err := cc.NewStream(ctx, collectDesc, collectMethod)
	if err != nil {
		return "", err
	}
	for _, p := range parts {
		if err := cs.SendMsg(wrapperspb.String(p)); err != nil {
			require.ErrorIs(t, err, io.EOF, "a failed send is io.EOF; RecvMsg says why")
			break
		}
	}
	require.NoError(t, cs.CloseSend())
	out := new(wrapperspb.StringValue)
	err = cs.RecvMsg(out)
	return out.GetValue(), err
}

func TestClientStreamIsReopenedBeforeItsFirstResponseWithTheSentMessages(t *testing.T) {
	f := &flaky{collect: func(ss grpc.ServerStream, n int) error {
		if n == 1 { // read everything, then fail
			for ss.RecvMsg(new(wrapperspb.StringValue)) == nil {
			}
			return status.Error(codes.Unavailable, "lost")
		}
		return joinAll(ss)
	}}
	cc := clientConn(t, f, streamConfig())

	out, err := collect(t.Context(), t, cc, "a", "b", "c")
	require.NoError(t, err)
	assert.Equal(t, "abc", out)
	assert.EqualValues(t, 2, f.streams.Load())
	md := f.seen()
	require.Len(t, md, 2)
	assert.Equal(t, []string{"1"}, md[1].Get(resiliencegrpc.PreviousAttemptsKey))
}

func TestClientStreamFailedMidSendIsReopenedAndGetsEveryMessage(t *testing.T) {
	f := &flaky{collect: func(ss grpc.ServerStream, n int) error {
		if n == 1 {
			return status.Error(codes.Unavailable, "refused at once")
		}
		return joinAll(ss)
	}}
	cc := clientConn(t, f, streamConfig())
	cs, err := cc.NewStream(t.Context(), collectDesc, collectMethod)
	require.NoError(t, err)
	require.NoError(t, cs.SendMsg(wrapperspb.String("a")))
	_, _ = cs.Header() // returns once the first attempt has ended
	for _, p := range []string{"b", "c"} {
		require.NoError(t, cs.SendMsg(wrapperspb.String(p)), "kept for the next attempt")
	}
	require.NoError(t, cs.CloseSend())
	out := new(wrapperspb.StringValue)
	require.NoError(t, cs.RecvMsg(out))
	assert.Equal(t, "abc", out.Value)
	assert.EqualValues(t, 2, f.streams.Load())
}

func TestServerStreamIsReopenedBeforeItsFirstMessageOnly(t *testing.T) {
	list := func(t *testing.T, failAfter int) (*flaky, []string, error) {
		f := &flaky{list: func(ss grpc.ServerStream, n int, in *wrapperspb.StringValue) error {
			for i, r := range in.Value {
				if n == 1 && i == failAfter {
					return status.Error(codes.Unavailable, "lost")
				}
				if err := ss.SendMsg(wrapperspb.String(string(r))); err != nil {
					return err
				}
			}
			return nil
		}}
		cc := clientConn(t, f, streamConfig())
		cs, err := cc.NewStream(t.Context(), listDesc, listMethod)
		require.NoError(t, err)
		require.NoError(t, cs.SendMsg(wrapperspb.String("xyz")))
		require.NoError(t, cs.CloseSend())
		var got []string
		for {
			m := new(wrapperspb.StringValue)
			if err := cs.RecvMsg(m); err != nil {
				if err == io.EOF {
					err = nil
				}
				return f, got, err
			}
			got = append(got, m.Value)
		}
	}
	t.Run("before", func(t *testing.T) {
		f, got, err := list(t, 0)
		require.NoError(t, err)
		assert.Equal(t, []string{"x", "y", "z"}, got)
		assert.EqualValues(t, 2, f.streams.Load())
	})
	t.Run("after", func(t *testing.T) {
		f, got, err := list(t, 1)
		assert.Equal(t, codes.Unavailable, status.Code(err), "after a response the error is the caller's")
		assert.Equal(t, []string{"x"}, got)
		assert.EqualValues(t, 1, f.streams.Load())
	})
}

func failingCollect() *flaky {
	return &flaky{collect: func(ss grpc.ServerStream, n int) error {
		if n == 1 {
			for ss.RecvMsg(new(wrapperspb.StringValue)) == nil {
			}
			return status.Error(codes.Unavailable, "lost")
		}
		return joinAll(ss)
	}}
}

func TestStreamOfANonIdempotentMethodWithoutKeyIsNotReopened(t *testing.T) {
	f := failingCollect()
	c := streamConfig()
	c.Idempotent = nil
	cc := clientConn(t, f, c)
	_, err := collect(t.Context(), t, cc, "a")
	assert.Equal(t, codes.Unavailable, status.Code(err))
	assert.EqualValues(t, 1, f.streams.Load())
}

func TestKeyedStreamIsReopenedWithItsKey(t *testing.T) {
	f := failingCollect()
	c := streamConfig()
	c.Idempotent = nil
	cc := clientConn(t, f, c)
	out, err := collect(idempotency.WithKey(t.Context(), "k-1"), t, cc, "a", "b")
	require.NoError(t, err)
	assert.Equal(t, "ab", out)
	for _, md := range f.seen() {
		assert.Equal(t, []string{"k-1"}, md.Get(resiliencegrpc.KeyMetadata))
	}
	assert.EqualValues(t, 2, f.streams.Load())
}

func TestStreamSendingMoreThanMaxReplayBytesIsNotReopened(t *testing.T) {
	f := failingCollect()
	c := streamConfig()
	c.MaxReplayBytes = 10
	cc := clientConn(t, f, c)
	_, err := collect(t.Context(), t, cc, "0123456", "789abcd")
	assert.Equal(t, codes.Unavailable, status.Code(err))
	assert.EqualValues(t, 1, f.streams.Load())

	out, err := collect(t.Context(), t, cc, "0123456")
	require.NoError(t, err, "within the bound the stream is replayed")
	assert.Equal(t, "0123456", out)
}

func TestStreamWaitPastTheDeadlineIsNotStarted(t *testing.T) {
	f := failingCollect()
	c := streamConfig()
	c.StreamRetry = func(string) *retry.Policy {
		return retry.New(retry.Config{Backoff: backoff.Constant(time.Hour), MaxDelay: time.Hour})
	}
	cc := clientConn(t, f, c)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, err := collect(ctx, t, cc, "a")
	assert.Equal(t, codes.Unavailable, status.Code(err))
	assert.EqualValues(t, 1, f.streams.Load())
}

func TestStreamCallerCancelIsNotRetried(t *testing.T) {
	arrived := make(chan struct{}, 4)
	f := &flaky{collect: func(ss grpc.ServerStream, n int) error {
		arrived <- struct{}{}
		<-ss.Context().Done()
		return status.FromContextError(ss.Context().Err()).Err()
	}}
	cc := clientConn(t, f, streamConfig())
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-arrived
		cancel()
	}()
	_, err := collect(ctx, t, cc, "a")
	assert.Equal(t, codes.Canceled, status.Code(err))
	assert.EqualValues(t, 1, f.streams.Load())
}

func TestStreamSetupIsGuardedByThePolicy(t *testing.T) {
	f := &flaky{}
	b := breaker.New(breaker.Config{ConsecutiveFailures: 1, OpenFor: time.Hour})
	_ = b.Do(t.Context(), func(context.Context) error { return status.Error(codes.Unavailable, "trip") })
	cc := clientConn(t, f, resiliencegrpc.Config{Policy: b})
	_, err := cc.NewStream(t.Context(), collectDesc, collectMethod)
	assert.ErrorIs(t, err, breaker.ErrOpen)
	assert.Equal(t, codes.Unavailable, status.Code(err))
	assert.Zero(t, f.streams.Load())
}

func TestStreamRetryDefaultsToTheMethodsRetryPolicy(t *testing.T) {
	f := failingCollect()
	cc := clientConn(t, f, resiliencegrpc.Config{Policy: fastRetry(3), Idempotent: always})
	out, err := collect(t.Context(), t, cc, "a")
	require.NoError(t, err)
	assert.Equal(t, "a", out)
	assert.EqualValues(t, 2, f.streams.Load())

	g := failingCollect()
	cc = clientConn(t, g, resiliencegrpc.Config{Policy: resilience.Chain(fastRetry(3), timeout.New(time.Minute)), Idempotent: always})
	_, err = collect(t.Context(), t, cc, "a")
	assert.Equal(t, codes.Unavailable, status.Code(err), "a chain is not a retry policy: no re-opening")
	assert.EqualValues(t, 1, g.streams.Load())
}

func TestBidiStreamSendsAndReceivesConcurrently(t *testing.T) {
	f := &flaky{}
	cc := clientConn(t, f, streamConfig())
	cs, err := cc.NewStream(t.Context(), chatDesc, chatMethod)
	require.NoError(t, err)
	const n = 50
	sent := make(chan error, 1)
	go func() {
		for i := range n {
			if err := cs.SendMsg(wrapperspb.String(strings.Repeat("x", i))); err != nil {
				sent <- err
				return
			}
		}
		sent <- cs.CloseSend()
	}()
	got := 0
	for {
		m := new(wrapperspb.StringValue)
		err := cs.RecvMsg(m)
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		assert.Len(t, m.Value, got)
		got++
	}
	require.NoError(t, <-sent)
	assert.Equal(t, n, got)
}

func TestBidiStreamIsNotReopenedAfterItsFirstResponse(t *testing.T) {
	f := &flaky{chat: func(ss grpc.ServerStream, n int) error {
		in := new(wrapperspb.StringValue)
		if err := ss.RecvMsg(in); err != nil {
			return err
		}
		if err := ss.SendMsg(in); err != nil {
			return err
		}
		return status.Error(codes.Unavailable, "gone")
	}}
	cc := clientConn(t, f, streamConfig())
	cs, err := cc.NewStream(t.Context(), chatDesc, chatMethod)
	require.NoError(t, err)
	require.NoError(t, cs.SendMsg(wrapperspb.String("hi")))
	m := new(wrapperspb.StringValue)
	require.NoError(t, cs.RecvMsg(m))
	assert.Equal(t, "hi", m.Value)
	err = cs.RecvMsg(m)
	assert.Equal(t, codes.Unavailable, status.Code(err))
	assert.Equal(t, "gone", status.Convert(err).Message(), "the server's own status")
	assert.EqualValues(t, 1, f.streams.Load())
}
