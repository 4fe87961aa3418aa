package resiliencegrpc_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/ratelimit"
	"github.com/magicmagnets/resilience/resiliencegrpc"
	"github.com/magicmagnets/resilience/retry"
)

// refuse is a policy that refuses every call with err.
func refuse(err error) resilience.Policy {
	return resilience.PolicyFunc(func(context.Context, resilience.Func) error { return err })
}

// busy is a capacity rejection with a hint, as a bulkhead's.
type busy struct{ wait time.Duration }

func (busy) Error() string               { return "busy" }
func (busy) Is(target error) bool        { return target == resilience.ErrRejected }
func (b busy) RetryAfter() time.Duration { return b.wait }
func serverWith(t *testing.T, f *flaky, p resilience.Policy) *grpc.ClientConn {
	t.Helper()
	return dial(t, serve(t, f, grpc.UnaryInterceptor(resiliencegrpc.UnaryServerInterceptor(p)),
		grpc.StreamInterceptor(resiliencegrpc.StreamServerInterceptor(p))))
}

func TestServerRejectionsBecomeStatusesWithPushback(t *testing.T) {
	for _, tc := range []struct {
		name     string
		err      error
		code     codes.Code
		pushback []string
	}{
		{"rate limit", &ratelimit.LimitedError{Wait: 1500 * time.Microsecond}, codes.ResourceExhausted, []string{"2"}},
		{"capacity", busy{wait: 250 * time.Millisecond}, codes.Unavailable, []string{"250"}},
		{"no hint", fmt.Errorf("%w: shed", resilience.ErrRejected), codes.Unavailable, nil},
		{"zero hint", busy{}, codes.Unavailable, []string{"0"}},
		{"negative hint", busy{wait: -time.Second}, codes.Unavailable, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &flaky{}
			cc := serverWith(t, f, refuse(tc.err))
			var tr metadata.MD
			err := cc.Invoke(t.Context(), callMethod, wrapperspb.String("x"), new(wrapperspb.StringValue), grpc.Trailer(&tr))
			assert.Equal(t, tc.code, status.Code(err))
			assert.Equal(t, tc.pushback, tr.Get(resiliencegrpc.PushbackKey))
			assert.Zero(t, f.calls.Load())

			cs, err := cc.NewStream(t.Context(), collectDesc, collectMethod)
			require.NoError(t, err)
			require.NoError(t, cs.CloseSend())
			err = cs.RecvMsg(new(wrapperspb.StringValue))
			assert.Equal(t, tc.code, status.Code(err))
			assert.Equal(t, tc.pushback, cs.Trailer().Get(resiliencegrpc.PushbackKey))
			assert.Zero(t, f.streams.Load())
		})
	}
}

func TestServerPassesTheHandlersOwnOutcome(t *testing.T) {
	f := &flaky{unary: failFirst(1, codes.NotFound)}
	cc := serverWith(t, f, breaker.New(breaker.Config{}))
	_, err := call(t.Context(), cc, callMethod, "x")
	st, _ := status.FromError(err)
	assert.Equal(t, codes.NotFound, st.Code())
	assert.Equal(t, "failure 1", st.Message())
	out, err := call(t.Context(), cc, callMethod, "y")
	require.NoError(t, err)
	assert.Equal(t, "y", out)
}

type ctxKey struct{}

func TestServerStreamHandlerGetsThePolicysContext(t *testing.T) {
	p := resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error {
		return fn(context.WithValue(ctx, ctxKey{}, "policy"))
	})
	var seen any
	f := &flaky{collect: func(ss grpc.ServerStream, n int) error {
		seen = ss.Context().Value(ctxKey{})
		return joinAll(ss)
	}}
	cc := serverWith(t, f, p)
	out, err := collect(t.Context(), t, cc, "a", "b")
	require.NoError(t, err)
	assert.Equal(t, "ab", out)
	assert.Equal(t, "policy", seen)
}

func TestClientWaitsTheServersPushback(t *testing.T) {
	n := 0
	p := resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error {
		if n++; n == 1 { // one caller in this test, so no lock
			return &ratelimit.LimitedError{Wait: time.Millisecond}
		}
		return fn(ctx)
	})
	f := &flaky{}
	addr := serve(t, f, grpc.UnaryInterceptor(resiliencegrpc.UnaryServerInterceptor(p)))
	// The client's own backoff would wait past the deadline: only the
	// pushback lets it retry.
	rp := retry.New(retry.Config{Backoff: backoff.Constant(time.Hour), MaxDelay: time.Hour})
	cc := dial(t, addr, grpc.WithUnaryInterceptor(resiliencegrpc.UnaryClientInterceptor(resiliencegrpc.Config{
		Policy: rp, Idempotent: always, RetryCodes: []codes.Code{codes.ResourceExhausted}})))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	_, err := call(ctx, cc, callMethod, "x")
	require.NoError(t, err)
	assert.EqualValues(t, 1, f.calls.Load())
	assert.Equal(t, 2, n)
}

func TestServerAnswersInternalWhenThePolicyRanNothing(t *testing.T) {
	f := &flaky{}
	absorb := resilience.PolicyFunc(func(context.Context, resilience.Func) error { return nil })
	cc := serverWith(t, f, absorb)
	_, err := call(t.Context(), cc, callMethod, "x")
	assert.Equal(t, codes.Internal, status.Code(err))
	assert.Zero(t, f.calls.Load())
}

func TestServerInterceptorsPanicOnANilPolicy(t *testing.T) {
	assert.PanicsWithValue(t, "resiliencegrpc: UnaryServerInterceptor: nil policy", func() { resiliencegrpc.UnaryServerInterceptor(nil) })
	assert.PanicsWithValue(t, "resiliencegrpc: StreamServerInterceptor: nil policy", func() { resiliencegrpc.StreamServerInterceptor(nil) })
	var b *breaker.Breaker
	assert.PanicsWithValue(t, "resiliencegrpc: UnaryServerInterceptor: nil policy", func() { resiliencegrpc.UnaryServerInterceptor(b) })
	assert.PanicsWithValue(t, "resiliencegrpc: StreamServerInterceptor: nil policy", func() { resiliencegrpc.StreamServerInterceptor(b) })
}
