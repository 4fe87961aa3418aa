package pgstore_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	osuser "os/user"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/pgstore"
)

// serverControl stops and starts the PostgreSQL server at DATABASE_URL,
// using PG_CTL, PG_DATA and PG_OS_USER as .ci/services.sh exports them.
// Stopping is a fast shutdown: sessions end, committed data stays.
func serverControl(t *testing.T, pool *pgxpool.Pool) (stop, start func()) {
	pgCtl, data, user := os.Getenv("PG_CTL"), os.Getenv("PG_DATA"), os.Getenv("PG_OS_USER")
	if pgCtl == "" || data == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("PG_CTL or PG_DATA is not set: CI must start PostgreSQL with .ci/services.sh")
		}
		t.Skip("PG_CTL or PG_DATA is not set: run make integration")
	}
	pgctl := func(args ...string) {
		args = append([]string{"-D", data, "-w"}, args...)
		cmd := exec.Command(pgCtl, args...)
		if me, _ := osuser.Current(); user != "" && me != nil && me.Username != user {
			cmd = exec.Command("runuser", append([]string{"-u", user, "--", pgCtl}, args...)...)
		}
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "pg_ctl %v: %s", args, out)
	}
	stop = func() {
		pgctl("-m", "fast", "stop")
		require.Eventually(t, func() bool { return pool.Ping(t.Context()) != nil }, 10*time.Second, 10*time.Millisecond, "postgres did not stop")
	}
	start = func() {
		pgctl("-l", data+"/log", "start")
		require.Eventually(t, func() bool { return pool.Ping(t.Context()) == nil }, 10*time.Second, 10*time.Millisecond, "postgres did not start")
	}
	return stop, start
}

func TestOutageRefusesWorkAndNothingRunsTwiceAfterwards(t *testing.T) {
	const (
		keys    = 40
		workers = 8
		lease   = time.Second
	)
	pool := newPool(t)
	stop, start := serverControl(t, pool)
	t.Cleanup(func() { // never leave the server down for the next test
		if pool.Ping(context.Background()) != nil {
			start()
		}
	})
	store := pgstore.New(pool, pgstore.Config{})
	prefix := "outage:" + idempotency.NewKey() + ":"

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
		_, _, err := idempotency.Do(ctx, store, prefix+fmt.Sprint(k), func(context.Context) (int, error) {
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
	assert.Contains(t, err.Error(), "pgstore: claim")
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
