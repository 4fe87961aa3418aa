package resiliencegrpc_test

import (
	"context"
	"errors"
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

// failFirst answers the first n calls with code, then the request.
func failFirst(n int, code codes.Code) func(context.Context, int, *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	return func(_ context.Context, i int, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		if i <= n {
			return nil, status.Errorf(code, "failure %d", i)
		}
		return in, nil
	}
}

func clientConn(t *testing.T, f *flaky, c resiliencegrpc.Config, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	opts = append(opts, grpc.WithUnaryInterceptor(resiliencegrpc.UnaryClientInterceptor(c)),
		grpc.WithStreamInterceptor(resiliencegrpc.StreamClientInterceptor(c)))
	return dial(t, serve(t, f), opts...)
}

func TestUnaryRetriesUnavailableThenSucceeds(t *testing.T) {
	f := &flaky{unary: failFirst(2, codes.Unavailable)}
	cc := clientConn(t, f, resiliencegrpc.Config{Policy: fastRetry(3), Idempotent: always})

	out, err := call(t.Context(), cc, callMethod, "hello")
	require.NoError(t, err)
	assert.Equal(t, "hello", out)
	assert.EqualValues(t, 3, f.calls.Load())
	md := f.seen()
	require.Len(t, md, 3)
	assert.Empty(t, md[0].Get(resiliencegrpc.PreviousAttemptsKey), "the first attempt is no retry")
	assert.Equal(t, []string{"1"}, md[1].Get(resiliencegrpc.PreviousAttemptsKey))
	assert.Equal(t, []string{"2"}, md[2].Get(resiliencegrpc.PreviousAttemptsKey))
}

func TestUnaryGivesUpWithTheLastStatus(t *testing.T) {
	f := &flaky{unary: failFirst(10, codes.Unavailable)}
	cc := clientConn(t, f, resiliencegrpc.Config{Policy: fastRetry(3), Idempotent: always})

	_, err := call(t.Context(), cc, callMethod, "x")
	require.Error(t, err)
	assert.EqualValues(t, 3, f.calls.Load())
	st, ok := status.FromError(err)
	require.True(t, ok)
	assert.Equal(t, codes.Unavailable, st.Code())
	assert.Equal(t, "failure 3", st.Message(), "the caller gets the server's own status")
	assert.ErrorIs(t, err, retry.ErrExhausted)
}

func TestUnaryNeverRetriesNonRetryableCodes(t *testing.T) {
	for _, code := range []codes.Code{codes.InvalidArgument, codes.NotFound, codes.PermissionDenied,
		codes.FailedPrecondition, codes.Internal, codes.Unauthenticated, codes.ResourceExhausted, codes.Aborted} {
		t.Run(code.String(), func(t *testing.T) {
			f := &flaky{unary: failFirst(1, code)}
			cc := clientConn(t, f, resiliencegrpc.Config{Policy: fastRetry(3), Idempotent: always})
			_, err := call(t.Context(), cc, callMethod, "x")
			assert.Equal(t, code, status.Code(err))
			assert.EqualValues(t, 1, f.calls.Load())
		})
	}
}

func TestUnaryRetryCodesAddResourceExhaustedAndAborted(t *testing.T) {
	for _, code := range []codes.Code{codes.ResourceExhausted, codes.Aborted} {
		t.Run(code.String(), func(t *testing.T) {
			f := &flaky{unary: failFirst(1, code)}
			cc := clientConn(t, f, resiliencegrpc.Config{Policy: fastRetry(3), Idempotent: always, RetryCodes: []codes.Code{code}})
			_, err := call(t.Context(), cc, callMethod, "x")
			require.NoError(t, err)
			assert.EqualValues(t, 2, f.calls.Load())
		})
	}
}

func TestUnaryNonIdempotentMethodWithoutKeyIsNotRetried(t *testing.T) {
	f := &flaky{unary: failFirst(1, codes.Unavailable)}
	cc := clientConn(t, f, resiliencegrpc.Config{Policy: fastRetry(3),
		Idempotent: func(m string) bool { return m == otherMethod }})

	_, err := call(t.Context(), cc, callMethod, "x")
	assert.Equal(t, codes.Unavailable, status.Code(err))
	assert.ErrorIs(t, err, resiliencegrpc.ErrNotIdempotent)
	assert.True(t, resilience.IsPermanent(err))
	assert.EqualValues(t, 1, f.calls.Load(), "UNAVAILABLE does not say the server did not run it")
}

func TestUnaryKeyedCallIsRetriedWithItsKeyOnEveryAttempt(t *testing.T) {
	f := &flaky{unary: failFirst(2, codes.Unavailable)}
	cc := clientConn(t, f, resiliencegrpc.Config{Policy: fastRetry(3)})

	_, err := call(idempotency.WithKey(t.Context(), "order-42"), cc, callMethod, "x")
	require.NoError(t, err)
	md := f.seen()
	require.Len(t, md, 3)
	for i, m := range md {
		assert.Equal(t, []string{"order-42"}, m.Get(resiliencegrpc.KeyMetadata), "attempt %d", i+1)
	}
}

func TestUnaryRefusesAKeyMetadataCannotCarry(t *testing.T) {
	f := &flaky{}
	cc := clientConn(t, f, resiliencegrpc.Config{Policy: fastRetry(3)})
	for _, key := range []string{"bad\nkey", "é", string(make([]byte, idempotency.MaxKeyLen+1))} {
		_, err := call(idempotency.WithKey(t.Context(), key), cc, callMethod, "x")
		assert.ErrorIs(t, err, idempotency.ErrInvalidKey)
		assert.True(t, resilience.IsPermanent(err))
	}
	assert.Zero(t, f.calls.Load(), "nothing is sent")
}

func TestUnaryPushbackReplacesTheBackoff(t *testing.T) {
	f := &flaky{unary: func(ctx context.Context, n int, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		if n == 1 {
			_ = grpc.SetTrailer(ctx, map[string][]string{resiliencegrpc.PushbackKey: {"2"}})
			return nil, status.Error(codes.Unavailable, "busy")
		}
		return in, nil
	}}
	// The backoff's wait would end after the deadline, so without the
	// pushback the policy gives up at once.
	p := retry.New(retry.Config{MaxAttempts: 3, Backoff: backoff.Constant(time.Hour), MaxDelay: time.Hour})
	cc := clientConn(t, f, resiliencegrpc.Config{Policy: p, Idempotent: always})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()

	_, err := call(ctx, cc, callMethod, "x")
	require.NoError(t, err)
	assert.EqualValues(t, 2, f.calls.Load())
}

func TestUnaryBadPushbackStopsRetrying(t *testing.T) {
	for name, values := range map[string][]string{
		"negative": {"-1"}, "garbage": {"soon"}, "fraction": {"1.5"}, "empty": {""},
		"unit": {"10ms"}, "repeated": {"1", "2"}, "huge negative": {"-99999999999999999999"},
	} {
		t.Run(name, func(t *testing.T) {
			f := &flaky{unary: func(ctx context.Context, n int, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
				_ = grpc.SetTrailer(ctx, map[string][]string{resiliencegrpc.PushbackKey: values})
				return nil, status.Error(codes.Unavailable, "go away")
			}}
			cc := clientConn(t, f, resiliencegrpc.Config{Policy: fastRetry(3), Idempotent: always})
			_, err := call(t.Context(), cc, callMethod, "x")
			assert.Equal(t, codes.Unavailable, status.Code(err))
			assert.True(t, resilience.IsPermanent(err))
			assert.EqualValues(t, 1, f.calls.Load())
		})
	}
}

func TestUnaryCallerCancelIsNeverRetried(t *testing.T) {
	arrived := make(chan struct{}, 10)
	f := &flaky{unary: func(ctx context.Context, n int, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		arrived <- struct{}{}
		<-ctx.Done()
		return nil, status.FromContextError(ctx.Err()).Err()
	}}
	cc := clientConn(t, f, resiliencegrpc.Config{Policy: fastRetry(5), Idempotent: always})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-arrived
		cancel()
	}()
	_, err := call(ctx, cc, callMethod, "x")
	assert.Equal(t, codes.Canceled, status.Code(err))
	assert.ErrorIs(t, err, context.Canceled)
	assert.EqualValues(t, 1, f.calls.Load())
}

func TestUnaryCallerDeadlineIsNeverRetried(t *testing.T) {
	f := &flaky{unary: func(ctx context.Context, n int, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		<-ctx.Done()
		return nil, status.FromContextError(ctx.Err()).Err()
	}}
	cc := clientConn(t, f, resiliencegrpc.Config{Policy: fastRetry(5), Idempotent: always})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := call(ctx, cc, callMethod, "x")
	assert.Equal(t, codes.DeadlineExceeded, status.Code(err))
	assert.EqualValues(t, 1, f.calls.Load())
}

func TestUnaryPerAttemptTimeoutIsRetried(t *testing.T) {
	f := &flaky{unary: func(ctx context.Context, n int, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		if n == 1 {
			<-ctx.Done() // the attempt's deadline travels to the server
			return nil, status.FromContextError(ctx.Err()).Err()
		}
		return in, nil
	}}
	p := resilience.Chain(fastRetry(3), timeout.New(50*time.Millisecond))
	cc := clientConn(t, f, resiliencegrpc.Config{Policy: p, Idempotent: always})
	out, err := call(t.Context(), cc, callMethod, "x")
	require.NoError(t, err)
	assert.Equal(t, "x", out)
	assert.EqualValues(t, 2, f.calls.Load())
}

func TestUnaryBreakerPerMethodRejectsWithoutSending(t *testing.T) {
	f := &flaky{unary: func(_ context.Context, _ int, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		if in.Value == "fail" {
			return nil, status.Error(codes.Unavailable, "down")
		}
		return in, nil
	}}
	made := map[string]int{}
	cc := clientConn(t, f, resiliencegrpc.Config{
		PerMethod: func(m string) resilience.Policy {
			made[m]++ // PerMethod is called once per method, so no lock is needed here
			return breaker.New(breaker.Config{ConsecutiveFailures: 2, OpenFor: time.Hour})
		},
		Idempotent: always,
	})
	for range 2 {
		_, err := call(t.Context(), cc, callMethod, "fail")
		assert.Equal(t, codes.Unavailable, status.Code(err))
	}
	_, err := call(t.Context(), cc, callMethod, "ok")
	assert.ErrorIs(t, err, breaker.ErrOpen)
	assert.ErrorIs(t, err, resilience.ErrRejected)
	assert.Equal(t, codes.Unavailable, status.Code(err), "a local rejection reads as UNAVAILABLE")
	assert.EqualValues(t, 2, f.calls.Load(), "the open breaker sent nothing")

	_, err = call(t.Context(), cc, otherMethod, "ok")
	require.NoError(t, err, "another method has a breaker of its own")
	assert.Equal(t, map[string]int{callMethod: 1, otherMethod: 1}, made)
}

func TestUnaryPerMethodEvictsTheLeastRecentlyUsed(t *testing.T) {
	f := &flaky{}
	made := map[string]int{}
	cc := clientConn(t, f, resiliencegrpc.Config{
		PerMethod:  func(m string) resilience.Policy { made[m]++; return fastRetry(1) },
		MaxMethods: 1,
	})
	for _, m := range []string{callMethod, callMethod, otherMethod, callMethod} {
		_, err := call(t.Context(), cc, m, "x")
		require.NoError(t, err)
	}
	assert.Equal(t, map[string]int{callMethod: 2, otherMethod: 1}, made)
}

func TestUnaryNilPolicyFromPerMethodFailsTheCall(t *testing.T) {
	f := &flaky{}
	cc := clientConn(t, f, resiliencegrpc.Config{PerMethod: func(string) resilience.Policy { return nil }})
	_, err := call(t.Context(), cc, callMethod, "x")
	assert.ErrorIs(t, err, resilience.ErrNilPolicy)
	assert.Zero(t, f.calls.Load())
}

// With grpc-go's own retry on (a service config that retries UNAVAILABLE),
// each attempt of the interceptor's policy is retried by grpc-go too, and
// the attempts multiply; grpc.WithDisableRetry keeps them to the policy's.
func TestGRPCRetryMultipliesAttemptsUnlessDisabled(t *testing.T) {
	const serviceConfig = `{"methodConfig": [{"name": [{"service": "test.Flaky"}], "retryPolicy": {
		"maxAttempts": 3, "initialBackoff": "0.001s", "maxBackoff": "0.001s", "backoffMultiplier": 1,
		"retryableStatusCodes": ["UNAVAILABLE"]}}]}`
	count := func(t *testing.T, disable bool) int32 {
		f := &flaky{unary: failFirst(100, codes.Unavailable)}
		ic := resiliencegrpc.UnaryClientInterceptor(resiliencegrpc.Config{Policy: fastRetry(2), Idempotent: always})
		opts := []grpc.DialOption{grpc.WithTransportCredentials(insecureCreds()),
			grpc.WithDefaultServiceConfig(serviceConfig), grpc.WithUnaryInterceptor(ic)}
		if disable {
			opts = append(opts, grpc.WithDisableRetry())
		}
		cc, err := grpc.NewClient(serve(t, f), opts...)
		require.NoError(t, err)
		defer cc.Close()
		_, err = call(t.Context(), cc, callMethod, "x")
		require.Equal(t, codes.Unavailable, status.Code(err))
		return f.calls.Load()
	}
	assert.EqualValues(t, 6, count(t, false), "2 policy attempts × 3 grpc-go attempts")
	assert.EqualValues(t, 2, count(t, true))
}

func TestConfigValidate(t *testing.T) {
	p := fastRetry(1)
	for name, c := range map[string]resiliencegrpc.Config{
		"both":              {Policy: p, PerMethod: func(string) resilience.Policy { return p }},
		"negative methods":  {MaxMethods: -1},
		"negative replay":   {MaxReplayBytes: -1},
		"unretryable code":  {RetryCodes: []codes.Code{codes.InvalidArgument}},
		"unretryable code2": {RetryCodes: []codes.Code{codes.Aborted, codes.NotFound}},
		"typed nil policy":  {Policy: (*retry.Policy)(nil)},
	} {
		t.Run(name, func(t *testing.T) {
			err := c.Validate()
			require.Error(t, err)
			assert.PanicsWithValue(t, err.Error(), func() { resiliencegrpc.UnaryClientInterceptor(c) })
			assert.PanicsWithValue(t, err.Error(), func() { resiliencegrpc.StreamClientInterceptor(c) })
		})
	}
	assert.NoError(t, resiliencegrpc.Config{}.Validate())
	assert.NoError(t, resiliencegrpc.Config{RetryCodes: []codes.Code{codes.Aborted, codes.ResourceExhausted}}.Validate())
}

func TestIsOverload(t *testing.T) {
	assert.True(t, resiliencegrpc.IsOverload(status.Error(codes.Unavailable, "")))
	assert.True(t, resiliencegrpc.IsOverload(status.Error(codes.ResourceExhausted, "")))
	assert.True(t, resiliencegrpc.IsOverload(resilience.Permanent(status.Error(codes.Unavailable, ""))))
	assert.False(t, resiliencegrpc.IsOverload(status.Error(codes.Internal, "")))
	assert.False(t, resiliencegrpc.IsOverload(errors.New("plain")))
	assert.False(t, resiliencegrpc.IsOverload(nil))
}
