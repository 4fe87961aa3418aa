package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/redisstore"
)

// serverControl stops and starts the Redis server at REDIS_URL, using
// REDIS_PORT and REDIS_CONF as .ci/services.sh exports them. Stopping saves
// the data set, as a server with persistence would keep it.
func serverControl(t *testing.T, client *redis.Client) (stop, start func()) {
	port, conf := os.Getenv("REDIS_PORT"), os.Getenv("REDIS_CONF")
	if port == "" || conf == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("REDIS_PORT or REDIS_CONF is not set: CI must start Redis with .ci/services.sh")
		}
		t.Skip("REDIS_PORT or REDIS_CONF is not set: run make integration")
	}
	stop = func() {
		out, _ := exec.Command("redis-cli", "-p", port, "shutdown", "save").CombinedOutput()
		require.Eventually(t, func() bool { return client.Ping(t.Context()).Err() != nil }, 10*time.Second, 10*time.Millisecond, "redis did not stop: %s", out)
	}
	start = func() {
		out, err := exec.Command("redis-server", conf).CombinedOutput()
		require.NoError(t, err, "%s", out)
		require.Eventually(t, func() bool { return client.Ping(t.Context()).Err() == nil }, 10*time.Second, 10*time.Millisecond, "redis did not start")
	}
	return stop, start
}

func TestOutageRefusesWorkAndNothingRunsTwiceAfterwards(t *testing.T) {
	const (
		keys    = 40
		workers = 8
		lease   = time.Second
	)
	client := newClient(t)
	stop, start := serverControl(t, client)
	t.Cleanup(func() { // never leave the server down for the next test
		if client.Ping(context.Background()).Err() != nil {
			start()
		}
	})
	store := redisstore.New(client, redisstore.Config{Prefix: "outage:" + idempotency.NewKey() + ":"})

	var (
		runs       [keys]atomic.Int32 // executions per key
		unrecorded [keys]atomic.Int32 // runs whose outcome could not be recorded
		succeeded  atomic.Int64
		refused    atomic.Int64
		errMu      sync.Mutex
		lastErr    error
	)
	call := func(ctx context.Context, k int, wait bool) error {
		ran := false
		_, _, err := idempotency.Do(ctx, store, fmt.Sprint(k), func(context.Context) (int, error) {
			ran = true
			runs[k].Add(1)
			return k, nil
		}, idempotency.Options{Lease: lease, Wait: wait})
		switch {
		case err == nil:
			succeeded.Add(1)
		case errors.Is(err, idempotency.ErrNotRecorded), errors.Is(err, idempotency.ErrLockLost):
			unrecorded[k].Add(1) // it ran, but the store may not know: it may run again
		case errors.Is(err, idempotency.ErrInProgress), ctx.Err() != nil:
		default:
			assert.False(t, ran, "Do failed with %v after running the operation", err)
			refused.Add(1)
			errMu.Lock()
			lastErr = err
			errMu.Unlock()
		}
		return err
	}

	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; ctx.Err() == nil; i += workers {
				_ = call(ctx, i%keys, false)
			}
		})
	}
	waitFor := func(n *atomic.Int64, more int64, what string) {
		target := n.Load() + more
		require.Eventually(t, func() bool { return n.Load() >= target }, 30*time.Second, time.Millisecond, what)
	}

	waitFor(&succeeded, 200, "calls before the outage")
	stop()
	waitFor(&refused, 20, "refusals during the outage")

	// During the outage Do refuses without running, and the middleware
	// answers 503.
	ran := false
	_, _, err := idempotency.Do(t.Context(), store, "fresh", func(context.Context) (int, error) { ran = true; return 0, nil }, idempotency.Options{})
	assert.Error(t, err)
	assert.False(t, ran, "Do ran the operation without a store")
	assert.Contains(t, err.Error(), "redisstore: claim")
	srv := httptest.NewServer(idempotency.Middleware(store, idempotency.MiddlewareConfig{})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("the handler ran without a store")
	})))
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("{}"))
	req.Header.Set("Idempotency-Key", "during-outage")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	srv.Client().CloseIdleConnections()

	start()
	waitFor(&succeeded, 200, "calls after the outage")
	cancel()
	wg.Wait()

	// Every key completes (waiting out the leases of runs cut off by the
	// outage), and no key ran more often than its unrecorded runs explain.
	for k := range keys {
		require.NoError(t, call(t.Context(), k, true), "key %d", k)
	}
	for k := range keys {
		assert.GreaterOrEqual(t, runs[k].Load(), int32(1), "key %d never ran", k)
		assert.LessOrEqual(t, runs[k].Load(), 1+unrecorded[k].Load(), "key %d ran twice", k)
	}
	errMu.Lock()
	t.Logf("%d calls succeeded, %d refused during the outage (last: %v)", succeeded.Load(), refused.Load(), lastErr)
	errMu.Unlock()
}
