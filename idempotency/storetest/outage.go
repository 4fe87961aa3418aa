package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
)

// Outage says how [RunOutage] takes down the server behind a store and
// brings it back.
type Outage struct {
	// Stop stops the server and returns once the store can no longer reach
	// it.
	Stop func(t *testing.T)
	// Start starts the server again, with the records it held when it
	// stopped, and returns once the store reaches it.
	Start func(t *testing.T)
	// ClaimError is text that a claim's error during the outage must
	// contain, so that the store's own error, naming it, reaches the
	// caller: "redisstore: claim", say. Empty skips that check.
	ClaimError string
}

const (
	outageKeys    = 40
	outageWorkers = 8
	outageLease   = time.Second
	outageTimeout = 30 * time.Second
)

// RunOutage proves that losing the store's server never makes an operation
// run without the store, nor run twice: eight workers call [idempotency.Do]
// over 40 keys while the server is stopped and started again. During the
// outage Do returns the store's error without running the operation, and
// [idempotency.Middleware] answers 503 without running its handler.
// Afterwards every key completes (waiting out the leases of runs the outage
// cut off), and no key ran more often than its runs whose outcome could not
// be recorded explain.
//
// It needs a real server; newStore is called once. If the test fails while
// the server is down, RunOutage starts it again, so that later tests find
// it up.
func RunOutage(t *testing.T, newStore NewStore, o Outage) {
	down := false
	t.Cleanup(func() {
		if down {
			o.Start(t)
		}
	})
	store := newStore(t)
	w := &outageWorkload{t: t, store: store, prefix: "outage:" + idempotency.NewKey() + ":"}

	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	stopWorkers := func() {
		cancel()
		wg.Wait()
	}
	t.Cleanup(stopWorkers) // runs before the restart above, should a check fail
	for i := range outageWorkers {
		wg.Go(func() {
			for n := i; ctx.Err() == nil; n += outageWorkers {
				_ = w.call(ctx, n%outageKeys, false)
			}
		})
	}

	waitFor(t, &w.succeeded, 200, "calls before the outage")
	down = true
	o.Stop(t)
	waitFor(t, &w.refused, 20, "refusals during the outage")
	refusedDuringOutage(t, store, w.prefix, o.ClaimError)
	o.Start(t)
	down = false
	waitFor(t, &w.succeeded, 200, "calls after the outage")
	stopWorkers()

	for k := range outageKeys {
		require.NoError(t, w.call(t.Context(), k, true), "key %d", k)
	}
	for k := range outageKeys {
		assert.GreaterOrEqual(t, w.runs[k].Load(), int32(1), "key %d never ran", k)
		assert.LessOrEqual(t, w.runs[k].Load(), 1+w.unrecorded[k].Load(), "key %d ran twice", k)
	}
	w.mu.Lock()
	t.Logf("%d calls succeeded, %d refused during the outage (last: %v)", w.succeeded.Load(), w.refused.Load(), w.lastErr)
	w.mu.Unlock()
}

// refusedDuringOutage checks, while the server is down, that Do refuses
// without running and that the middleware answers 503.
func refusedDuringOutage(t *testing.T, store idempotency.Store, prefix, claimError string) {
	ran := false
	_, _, err := idempotency.Do(t.Context(), store, prefix+"fresh", func(context.Context) (int, error) {
		ran = true
		return 0, nil
	}, idempotency.Options{})
	require.Error(t, err)
	assert.False(t, ran, "Do ran the operation without a store")
	assert.Contains(t, err.Error(), claimError)

	srv := httptest.NewServer(idempotency.Middleware(store, idempotency.MiddlewareConfig{})(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("the handler ran without a store")
	})))
	defer srv.Close()
	defer srv.Client().CloseIdleConnections()
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("{}"))
	req.Header.Set("Idempotency-Key", prefix+"during-outage")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}

// outageWorkload counts what happens to the calls RunOutage makes.
type outageWorkload struct {
	t      *testing.T
	store  idempotency.Store
	prefix string

	runs       [outageKeys]atomic.Int32 // executions per key
	unrecorded [outageKeys]atomic.Int32 // runs whose outcome could not be recorded
	succeeded  atomic.Int64
	refused    atomic.Int64
	mu         sync.Mutex
	lastErr    error // the last refusal
}

// call runs key k's operation under Do and files the outcome.
func (w *outageWorkload) call(ctx context.Context, k int, wait bool) error {
	ran := false
	_, _, err := idempotency.Do(ctx, w.store, w.prefix+fmt.Sprint(k), func(context.Context) (int, error) {
		ran = true
		w.runs[k].Add(1)
		return k, nil
	}, idempotency.Options{Lease: outageLease, Wait: wait})
	switch {
	case err == nil:
		w.succeeded.Add(1)
	case errors.Is(err, idempotency.ErrNotRecorded), errors.Is(err, idempotency.ErrLockLost):
		w.unrecorded[k].Add(1) // it ran, but the store may not know: it may run again
	case errors.Is(err, idempotency.ErrInProgress), ctx.Err() != nil:
	default:
		assert.False(w.t, ran, "Do failed with %v after running the operation", err)
		w.refused.Add(1)
		w.mu.Lock()
		w.lastErr = err
		w.mu.Unlock()
	}
	return err
}

// waitFor waits until n has grown by more.
func waitFor(t *testing.T, n *atomic.Int64, more int64, what string) {
	target := n.Load() + more
	require.Eventually(t, func() bool { return n.Load() >= target }, outageTimeout, time.Millisecond, what)
}
