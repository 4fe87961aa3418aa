package redistest

import (
	"context"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/redisstore"
	"github.com/magicmagnets/resilience/resiliencegrpc"
	"github.com/magicmagnets/resilience/retry"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const chargeMethod = "/test.Payments/Charge"

// payments is the test service: Charge runs run, counted.
type payments struct {
	runs atomic.Int32
	run  func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error)
}

var paymentsDesc = grpc.ServiceDesc{
	ServiceName: "test.Payments",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Charge",
		Handler: func(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			p := srv.(*payments)
			h := func(ctx context.Context, req any) (any, error) {
				p.runs.Add(1)
				return p.run(ctx, req.(*wrapperspb.StringValue))
			}
			if ic == nil {
				return h(ctx, in)
			}
			return ic(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: chargeMethod}, h)
		},
	}},
}

// newStore returns an idempotency store on the Redis at REDIS_URL, with its
// own key prefix. Without REDIS_URL the test is skipped, or fails under CI.
func newStore(t *testing.T) idempotency.Store {
	t.Helper()
	url := os.Getenv("REDIS_URL")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("REDIS_URL is not set: CI must start Redis (.ci/services.sh)")
		}
		t.Skip("REDIS_URL is not set: run make integration")
	}
	opts, err := redis.ParseURL(url)
	require.NoError(t, err)
	opts.ContextTimeoutEnabled = true
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	require.NoError(t, client.Ping(t.Context()).Err(), "Redis at REDIS_URL does not answer")
	return redisstore.New(client, redisstore.Config{Prefix: "grpc-replicas:" + idempotency.NewKey() + ":"})
}

// replica serves p on loopback behind the idempotency interceptor over
// store, and an outer interceptor that counts the ABORTED answers ("in
// progress") it sends.
func replica(t *testing.T, p *payments, store idempotency.Store, aborted *atomic.Int32) string {
	t.Helper()
	count := func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		resp, err := h(ctx, req)
		if status.Code(err) == codes.Aborted {
			aborted.Add(1)
		}
		return resp, err
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := grpc.NewServer(grpc.ChainUnaryInterceptor(count,
		resiliencegrpc.IdempotencyUnaryServerInterceptor(store, resiliencegrpc.IdempotencyConfig{InProgressRetryAfter: time.Millisecond})))
	s.RegisterService(&paymentsDesc, p)
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

// TestIdenticalKeyedCallsAcrossTwoReplicasOnRedisRunOnce: 500 identical
// keyed calls, spread over two server replicas that share one Redis store,
// run the handler once; every call gets its response, the ones that found
// the key in progress after retrying the ABORTED answer with its pushback.
func TestIdenticalKeyedCallsAcrossTwoReplicasOnRedisRunOnce(t *testing.T) {
	store := newStore(t)
	var aborted atomic.Int32
	p := &payments{run: func(ctx context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
		// Hold the key until many calls have found it in progress, so the
		// replicas really race for it.
		for aborted.Load() < 50 && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		return wrapperspb.String("charged " + in.Value), nil
	}}
	client := resiliencegrpc.UnaryClientInterceptor(resiliencegrpc.Config{
		Policy: retry.New(retry.Config{MaxAttempts: -1, Backoff: backoff.Constant(time.Millisecond)}),
	})
	var conns []*grpc.ClientConn
	for range 2 {
		cc, err := grpc.NewClient(replica(t, p, store, &aborted),
			grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithDisableRetry(), grpc.WithUnaryInterceptor(client))
		require.NoError(t, err)
		t.Cleanup(func() { _ = cc.Close() })
		conns = append(conns, cc)
	}

	ctx, cancel := context.WithTimeout(idempotency.WithKey(t.Context(), "order-"+idempotency.NewKey()), 30*time.Second)
	defer cancel()
	const calls = 500
	outs := make([]string, calls)
	errs := make([]error, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			out := new(wrapperspb.StringValue)
			errs[i] = conns[i%2].Invoke(ctx, chargeMethod, wrapperspb.String("$50"), out)
			outs[i] = out.GetValue()
		})
	}
	wg.Wait()
	for i := range calls {
		require.NoError(t, errs[i], "call %d", i)
		require.Equal(t, "charged $50", outs[i], "call %d", i)
	}
	assert.EqualValues(t, 1, p.runs.Load(), "the handler ran once across both replicas")
	assert.GreaterOrEqual(t, aborted.Load(), int32(50), "calls found the key in progress and retried")
}
