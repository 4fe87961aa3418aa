package resiliencegrpc_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/resiliencegrpc"
	"github.com/magicmagnets/resilience/retry"
)

// idemServer serves f behind the idempotency interceptor over store, and
// behind outer, when set, outside it.
func idemServer(t *testing.T, f *flaky, store idempotency.Store, c resiliencegrpc.IdempotencyConfig, outer ...grpc.UnaryServerInterceptor) string {
	t.Helper()
	chain := append(outer, resiliencegrpc.IdempotencyUnaryServerInterceptor(store, c))
	return serve(t, f, grpc.ChainUnaryInterceptor(chain...))
}

func withKeyMD(ctx context.Context, kv ...string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, kv...)
}

func TestKeyedCallWhoseResponseIsLostIsReplayedNotRunAgain(t *testing.T) {
	f := &flaky{unary: func(_ context.Context, n int, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		return wrapperspb.String("charged " + in.Value), nil
	}}
	var seen atomic.Int32
	lose := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		resp, err := h(ctx, req)
		if seen.Add(1) == 1 {
			return nil, status.Error(codes.Unavailable, "connection reset") // the response never reaches the client
		}
		return resp, err
	}
	addr := idemServer(t, f, idempotency.NewMemoryStore(idempotency.MemoryConfig{}), resiliencegrpc.IdempotencyConfig{}, lose)
	cc := dial(t, addr, grpc.WithUnaryInterceptor(resiliencegrpc.UnaryClientInterceptor(resiliencegrpc.Config{Policy: fastRetry(3)})))

	ctx := idempotency.WithKey(t.Context(), idempotency.NewKey())
	out, err := call(ctx, cc, callMethod, "$10")
	require.NoError(t, err)
	assert.Equal(t, "charged $10", out)
	assert.EqualValues(t, 2, seen.Load(), "the client retried")
	assert.EqualValues(t, 1, f.calls.Load(), "the handler ran once")
}

func TestIdempotencyReplaysTheRecordedStatusWithItsDetails(t *testing.T) {
	f := &flaky{unary: func(context.Context, int, *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		st, err := status.New(codes.FailedPrecondition, "card declined").WithDetails(&errdetails.ErrorInfo{Reason: "DECLINED"})
		if err != nil {
			return nil, err
		}
		return nil, st.Err()
	}}
	cc := dial(t, idemServer(t, f, idempotency.NewMemoryStore(idempotency.MemoryConfig{}), resiliencegrpc.IdempotencyConfig{}))
	ctx := withKeyMD(t.Context(), resiliencegrpc.KeyMetadata, "order-1")
	for range 2 {
		_, err := call(ctx, cc, callMethod, "x")
		st := status.Convert(err)
		assert.Equal(t, codes.FailedPrecondition, st.Code())
		assert.Equal(t, "card declined", st.Message())
		require.Len(t, st.Details(), 1)
		assert.Equal(t, "DECLINED", st.Details()[0].(*errdetails.ErrorInfo).Reason)
	}
	assert.EqualValues(t, 1, f.calls.Load())
}

func TestIdempotencyReplaysTheResponse(t *testing.T) {
	f := &flaky{unary: func(_ context.Context, n int, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		return wrapperspb.String(strings.Repeat(in.Value, n)), nil
	}}
	cc := dial(t, idemServer(t, f, idempotency.NewMemoryStore(idempotency.MemoryConfig{}), resiliencegrpc.IdempotencyConfig{}))
	ctx := withKeyMD(t.Context(), resiliencegrpc.KeyMetadata, "k")
	for range 3 {
		out, err := call(ctx, cc, callMethod, "ab")
		require.NoError(t, err)
		assert.Equal(t, "ab", out, "every call gets the first response")
	}
	out, err := call(t.Context(), cc, callMethod, "ab")
	require.NoError(t, err)
	assert.Equal(t, "abab", out, "a call without a key passes through")
	assert.EqualValues(t, 2, f.calls.Load())
}

func TestIdempotencyReleasesTheKeyOnNotProcessedStatuses(t *testing.T) {
	for _, code := range []codes.Code{codes.Unavailable, codes.ResourceExhausted, codes.Aborted, codes.DeadlineExceeded} {
		t.Run(code.String(), func(t *testing.T) {
			f := &flaky{unary: failFirst(1, code)}
			cc := dial(t, idemServer(t, f, idempotency.NewMemoryStore(idempotency.MemoryConfig{}), resiliencegrpc.IdempotencyConfig{}))
			ctx := withKeyMD(t.Context(), resiliencegrpc.KeyMetadata, "k")
			_, err := call(ctx, cc, callMethod, "x")
			assert.Equal(t, code, status.Code(err))
			out, err := call(ctx, cc, callMethod, "x")
			require.NoError(t, err)
			assert.Equal(t, "x", out)
			assert.EqualValues(t, 2, f.calls.Load())
		})
	}
}

func TestIdempotencyRefusesAKeyReusedForAnotherRequest(t *testing.T) {
	f := &flaky{}
	cc := dial(t, idemServer(t, f, idempotency.NewMemoryStore(idempotency.MemoryConfig{}), resiliencegrpc.IdempotencyConfig{}))
	ctx := withKeyMD(t.Context(), resiliencegrpc.KeyMetadata, "k")
	_, err := call(ctx, cc, callMethod, "x")
	require.NoError(t, err)
	_, err = call(ctx, cc, callMethod, "y")
	assert.Equal(t, codes.InvalidArgument, status.Code(err), "another request")
	_, err = call(ctx, cc, otherMethod, "x")
	assert.Equal(t, codes.InvalidArgument, status.Code(err), "another method")
	_, err = call(withKeyMD(ctx, "authorization", "Bearer other"), cc, callMethod, "x")
	assert.Equal(t, codes.InvalidArgument, status.Code(err), "another caller")
	assert.EqualValues(t, 1, f.calls.Load())
}

func TestIdempotencyTenantScopesKeys(t *testing.T) {
	f := &flaky{}
	tenant := func(ctx context.Context) string {
		md, _ := metadata.FromIncomingContext(ctx)
		return strings.Join(md.Get("tenant"), "")
	}
	cc := dial(t, idemServer(t, f, idempotency.NewMemoryStore(idempotency.MemoryConfig{}), resiliencegrpc.IdempotencyConfig{Tenant: tenant}))
	for _, tn := range []string{"a", "b", "a"} {
		_, err := call(withKeyMD(t.Context(), resiliencegrpc.KeyMetadata, "k", "tenant", tn, "authorization", tn+tn), cc, callMethod, "x")
		require.NoError(t, err)
	}
	assert.EqualValues(t, 2, f.calls.Load(), "one run per tenant; authorization does not count with a Tenant")
}

func TestIdempotencyRefusesMalformedKeys(t *testing.T) {
	f := &flaky{}
	cc := dial(t, idemServer(t, f, idempotency.NewMemoryStore(idempotency.MemoryConfig{}), resiliencegrpc.IdempotencyConfig{}))
	for name, kv := range map[string][]string{
		"repeated": {resiliencegrpc.KeyMetadata, "a", resiliencegrpc.KeyMetadata, "b"},
		"empty":    {resiliencegrpc.KeyMetadata, ""},
		"too long": {resiliencegrpc.KeyMetadata, strings.Repeat("k", idempotency.MaxKeyLen+1)},
	} {
		_, err := call(withKeyMD(t.Context(), kv...), cc, callMethod, "x")
		assert.Equal(t, codes.InvalidArgument, status.Code(err), name)
	}
	assert.Zero(t, f.calls.Load())
}

func TestIdempotencyRequireKeyAndMethods(t *testing.T) {
	f := &flaky{}
	cc := dial(t, idemServer(t, f, idempotency.NewMemoryStore(idempotency.MemoryConfig{}), resiliencegrpc.IdempotencyConfig{
		RequireKey: true, Methods: func(m string) bool { return m == callMethod }}))
	_, err := call(t.Context(), cc, callMethod, "x")
	assert.Equal(t, codes.InvalidArgument, status.Code(err))
	assert.Zero(t, f.calls.Load())
	ctx := withKeyMD(t.Context(), resiliencegrpc.KeyMetadata, "k")
	for range 2 {
		_, err = call(ctx, cc, otherMethod, "x")
		require.NoError(t, err, "an unguarded method passes through")
	}
	assert.EqualValues(t, 2, f.calls.Load())
}

func TestIdempotencyResponseTooLargeToRecordIsReplayedAsInternal(t *testing.T) {
	f := &flaky{unary: func(context.Context, int, *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		return wrapperspb.String(strings.Repeat("z", 200)), nil
	}}
	store := idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxResultSize: 100})
	cc := dial(t, idemServer(t, f, store, resiliencegrpc.IdempotencyConfig{}))
	ctx := withKeyMD(t.Context(), resiliencegrpc.KeyMetadata, "k")
	out, err := call(ctx, cc, callMethod, "x")
	require.NoError(t, err)
	assert.Len(t, out, 200, "the first caller gets the response")
	_, err = call(ctx, cc, callMethod, "x")
	assert.Equal(t, codes.Internal, status.Code(err))
	assert.Contains(t, status.Convert(err).Message(), "ran once")
	assert.EqualValues(t, 1, f.calls.Load())
}

func TestIdempotencyAnswersAbortedWithPushbackWhileInProgress(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	f := &flaky{unary: func(_ context.Context, n int, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		if n == 1 {
			close(entered)
			<-release
		}
		return in, nil
	}}
	addr := idemServer(t, f, idempotency.NewMemoryStore(idempotency.MemoryConfig{}), resiliencegrpc.IdempotencyConfig{InProgressRetryAfter: 1500 * time.Microsecond})
	plain := dial(t, addr)
	ctx := withKeyMD(t.Context(), resiliencegrpc.KeyMetadata, "k")
	first := make(chan error, 1)
	go func() {
		_, err := call(ctx, plain, callMethod, "x")
		first <- err
	}()
	<-entered
	var tr metadata.MD
	err := plain.Invoke(ctx, callMethod, wrapperspb.String("x"), new(wrapperspb.StringValue), grpc.Trailer(&tr))
	assert.Equal(t, codes.Aborted, status.Code(err))
	assert.Equal(t, []string{"2"}, tr.Get(resiliencegrpc.PushbackKey))
	close(release)
	require.NoError(t, <-first)
	assert.EqualValues(t, 1, f.calls.Load())
}

func TestKeyedClientRetriesAbortedUntilTheFirstCallIsRecorded(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	f := &flaky{unary: func(_ context.Context, n int, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		if n == 1 {
			close(entered)
			<-release
		}
		return wrapperspb.String("first"), nil
	}}
	var aborted atomic.Int32
	count := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		resp, err := h(ctx, req)
		if status.Code(err) == codes.Aborted && aborted.Add(1) == 2 {
			close(release) // the second retry has been told to wait: let the first finish
		}
		return resp, err
	}
	addr := idemServer(t, f, idempotency.NewMemoryStore(idempotency.MemoryConfig{}), resiliencegrpc.IdempotencyConfig{InProgressRetryAfter: time.Millisecond}, count)
	plain := dial(t, addr)
	keyed := dial(t, addr, grpc.WithUnaryInterceptor(resiliencegrpc.UnaryClientInterceptor(resiliencegrpc.Config{
		Policy: retry.New(retry.Config{MaxAttempts: -1, Backoff: backoff.Constant(time.Hour), MaxDelay: time.Hour})})))
	first := make(chan error, 1)
	go func() {
		_, err := call(withKeyMD(t.Context(), resiliencegrpc.KeyMetadata, "k"), plain, callMethod, "x")
		first <- err
	}()
	<-entered
	ctx, cancel := context.WithTimeout(idempotency.WithKey(t.Context(), "k"), 30*time.Second)
	defer cancel()
	out, err := call(ctx, keyed, callMethod, "x")
	require.NoError(t, err)
	assert.Equal(t, "first", out, "the replay of the first call")
	require.NoError(t, <-first)
	assert.EqualValues(t, 1, f.calls.Load())
	assert.GreaterOrEqual(t, aborted.Load(), int32(2))
}

// 500 identical keyed calls spread over two replicas that share a store
// run the handler once, and all get its response.
func TestIdenticalKeyedCallsAcrossTwoReplicasRunOnce(t *testing.T) {
	store := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	var ran atomic.Int32
	enough := make(chan struct{})
	var once sync.Once
	var aborted atomic.Int32
	count := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		resp, err := h(ctx, req)
		if status.Code(err) == codes.Aborted && aborted.Add(1) >= 50 {
			once.Do(func() { close(enough) })
		}
		return resp, err
	}
	handler := func(ctx context.Context, _ int, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		ran.Add(1)
		select { // hold the key until many calls have found it in progress
		case <-enough:
		case <-ctx.Done():
		}
		return wrapperspb.String("done " + in.Value), nil
	}
	c := resiliencegrpc.Config{Policy: retry.New(retry.Config{MaxAttempts: -1, Backoff: backoff.Constant(time.Millisecond)})}
	var conns []*grpc.ClientConn
	for range 2 {
		addr := idemServer(t, &flaky{unary: handler}, store, resiliencegrpc.IdempotencyConfig{InProgressRetryAfter: time.Millisecond}, count)
		conns = append(conns, dial(t, addr, grpc.WithUnaryInterceptor(resiliencegrpc.UnaryClientInterceptor(c))))
	}
	ctx, cancel := context.WithTimeout(idempotency.WithKey(t.Context(), "order-7"), 30*time.Second)
	defer cancel()
	const calls = 500
	outs := make([]string, calls)
	errs := make([]error, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() { outs[i], errs[i] = call(ctx, conns[i%2], callMethod, "7") })
	}
	wg.Wait()
	for i := range calls {
		require.NoError(t, errs[i], "call %d", i)
		require.Equal(t, "done 7", outs[i], "call %d", i)
	}
	assert.EqualValues(t, 1, ran.Load())
}

func TestIdempotencyConfigValidate(t *testing.T) {
	store := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	for name, c := range map[string]resiliencegrpc.IdempotencyConfig{
		"in progress": {InProgressRetryAfter: -1},
		"lease":       {Lease: -1},
		"retention":   {Retention: -1},
	} {
		err := c.Validate()
		require.Error(t, err, name)
		assert.PanicsWithValue(t, err.Error(), func() { resiliencegrpc.IdempotencyUnaryServerInterceptor(store, c) })
	}
	assert.PanicsWithValue(t, "resiliencegrpc: IdempotencyUnaryServerInterceptor: nil store", func() {
		resiliencegrpc.IdempotencyUnaryServerInterceptor(nil, resiliencegrpc.IdempotencyConfig{})
	})
	assert.PanicsWithValue(t, "resiliencegrpc: IdempotencyUnaryServerInterceptor: nil store", func() {
		resiliencegrpc.IdempotencyUnaryServerInterceptor((*idempotency.MemoryStore)(nil), resiliencegrpc.IdempotencyConfig{})
	})
}
