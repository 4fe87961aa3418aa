package resiliencegrpc_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/hedge"
	"github.com/magicmagnets/resilience/resiliencegrpc"
)

// A hedge returns with its winner and cancels the loser without waiting
// for it. The loser here, the first attempt, decoding into reply, is still
// writing it when the hedge has won: the call waits for it to return, and
// then gives the winner's reply.
func TestUnaryWaitsForAHedgesLoserBeforeReturning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cancelled, release := make(chan struct{}), make(chan struct{})
		var calls atomic.Int32
		invoker := func(ctx context.Context, _ string, _, reply any, _ *grpc.ClientConn, _ ...grpc.CallOption) error {
			out := reply.(*wrapperspb.StringValue)
			if calls.Add(1) == 2 { // the hedge: it wins at once
				out.Value = "second"
				return nil
			}
			<-ctx.Done()
			close(cancelled)
			<-release // a response that arrived as it was cancelled
			out.Value = "late"
			return ctx.Err()
		}
		ic := resiliencegrpc.UnaryClientInterceptor(resiliencegrpc.Config{Policy: hedge.New(hedge.Config{}), Idempotent: always})
		reply := new(wrapperspb.StringValue)
		done := make(chan error, 1)
		go func() { done <- ic(t.Context(), callMethod, wrapperspb.String("x"), reply, nil, invoker) }()

		<-cancelled
		synctest.Wait()
		select {
		case err := <-done:
			t.Fatalf("the call returned (%v) while its first attempt was still running", err)
		default:
		}
		close(release)
		require.NoError(t, <-done)
		assert.Equal(t, "second", reply.GetValue())
		assert.EqualValues(t, 2, calls.Load())
	})
}

// keeper is a policy that runs fn once and keeps it, so that a test can
// start an attempt after Do has returned.
type keeper struct{ fn resilience.Func }

func (k *keeper) Do(ctx context.Context, fn resilience.Func) error {
	k.fn = fn
	return fn(ctx)
}

// An attempt that a policy starts after the call has returned sends
// nothing and fails permanently: the call's reply is no longer its to
// write.
func TestUnaryAttemptStartedAfterTheCallSendsNothing(t *testing.T) {
	var calls atomic.Int32
	invoker := func(context.Context, string, any, any, *grpc.ClientConn, ...grpc.CallOption) error {
		calls.Add(1)
		return nil
	}
	k := &keeper{}
	ic := resiliencegrpc.UnaryClientInterceptor(resiliencegrpc.Config{Policy: k, Idempotent: always})
	require.NoError(t, ic(t.Context(), callMethod, wrapperspb.String("x"), new(wrapperspb.StringValue), nil, invoker))
	err := k.fn(t.Context())
	require.Error(t, err)
	assert.True(t, resilience.IsPermanent(err))
	assert.EqualValues(t, 1, calls.Load())
}

// A stream setup attempt that a policy starts after the call has returned
// opens nothing and fails permanently.
func TestStreamSetupStartedAfterTheCallOpensNothing(t *testing.T) {
	var opened atomic.Int32
	streamer := func(ctx context.Context, _ *grpc.StreamDesc, _ *grpc.ClientConn, _ string, _ ...grpc.CallOption) (grpc.ClientStream, error) {
		opened.Add(1)
		return &fakeStream{ctx: ctx}, nil
	}
	k := &keeper{}
	ic := resiliencegrpc.StreamClientInterceptor(resiliencegrpc.Config{Policy: k, Idempotent: always})
	_, err := ic(t.Context(), collectDesc, nil, collectMethod, streamer)
	require.NoError(t, err)
	err = k.fn(t.Context())
	require.Error(t, err)
	assert.True(t, resilience.IsPermanent(err))
	assert.EqualValues(t, 1, opened.Load())
}

// failAfter is a policy that runs fn and then fails the call anyway, as a
// hedge does whose loser opened a stream after another attempt's failure
// decided the call.
type failAfter struct{}

func (failAfter) Do(ctx context.Context, fn resilience.Func) error {
	_ = fn(ctx)
	return resilience.Permanent(errors.New("refused"))
}

// A stream opened by an attempt of a call that fails is ended: nobody
// gets it.
func TestStreamOpenedForACallThatFailsIsEnded(t *testing.T) {
	var sctx context.Context
	streamer := func(ctx context.Context, _ *grpc.StreamDesc, _ *grpc.ClientConn, _ string, _ ...grpc.CallOption) (grpc.ClientStream, error) {
		sctx = ctx
		return &fakeStream{ctx: ctx}, nil
	}
	ic := resiliencegrpc.StreamClientInterceptor(resiliencegrpc.Config{Policy: failAfter{}, Idempotent: always})
	cs, err := ic(t.Context(), collectDesc, nil, collectMethod, streamer)
	require.Error(t, err)
	assert.Nil(t, cs)
	require.NotNil(t, sctx)
	assert.Error(t, sctx.Err(), "the stream's context is cancelled")
}
