package idempotency_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/resiliencetest"
)

var errConnReset = errors.New("connection reset by peer")

// flakyStore wraps a store and fails Complete and Extend as a test says,
// like a Redis that restarts or a link that goes down.
type flakyStore struct {
	idempotency.Store
	failCompletes atomic.Int32 // the next this many Completes fail; negative: every one
	failExtends   atomic.Bool
}

func (s *flakyStore) Complete(ctx context.Context, key string, lock idempotency.Lock, result []byte, retention time.Duration) error {
	if n := s.failCompletes.Load(); n != 0 {
		if n > 0 {
			s.failCompletes.Add(-1)
		}
		return errConnReset
	}
	return s.Store.Complete(ctx, key, lock, result, retention)
}

func (s *flakyStore) Extend(ctx context.Context, key string, lock idempotency.Lock, lease time.Duration) error {
	if s.failExtends.Load() {
		return errConnReset
	}
	return s.Store.Extend(ctx, key, lock, lease)
}

// kinds returns the kinds of the events among only.
func kinds(events []resilience.Event, only ...resilience.Kind) []resilience.Kind {
	var ks []resilience.Kind
	for _, e := range events {
		for _, k := range only {
			if e.Kind == k {
				ks = append(ks, k)
			}
		}
	}
	return ks
}

func TestMiddlewareKeepsTheLeaseWhenTheClientHangsUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var runs atomic.Int32
		slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			runs.Add(1)
			time.Sleep(10 * time.Second) // the card network takes its time; the charge goes on
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, "charged")
		})
		h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{Lease: 3 * time.Second})(slow)
		ctx, hangUp := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			serve(h, request("POST", "k", `{}`).WithContext(ctx))
		}()
		time.Sleep(time.Second)
		hangUp()
		time.Sleep(5 * time.Second) // more than a lease after the hang-up

		w := serve(h, request("POST", "k", `{}`))
		assert.Equal(t, http.StatusConflict, w.Code, "the first run still holds the key")
		<-done
		again := serve(h, request("POST", "k", `{}`))
		assert.Equal(t, http.StatusCreated, again.Code)
		assert.Equal(t, "true", again.Header().Get("Idempotent-Replayed"), "the outcome was recorded")
		assert.Equal(t, "charged", again.Body.String())
		assert.Equal(t, int32(1), runs.Load())
	})
}

func TestMiddlewareRetriesARecordTheStoreFailedUntilItIsTaken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &flakyStore{Store: newStore()}
		s.failCompletes.Store(3)
		var obs resiliencetest.Recorder
		next := &chargeHandler{}
		h := idempotency.Middleware(s, idempotency.MiddlewareConfig{Observer: &obs})(next)
		first := serve(h, request("POST", "k", `{}`))
		require.Equal(t, http.StatusCreated, first.Code)

		again := serve(h, request("POST", "k", `{}`))
		assert.Equal(t, "true", again.Header().Get("Idempotent-Replayed"))
		assert.Equal(t, first.Body.String(), again.Body.String())
		assert.Equal(t, int32(1), next.runs.Load())
		assert.Equal(t, []resilience.Kind{resilience.KindRetry, resilience.KindRetry, resilience.KindRetry, resilience.KindRecorded},
			kinds(obs.Events(), resilience.KindRetry, resilience.KindRecorded, resilience.KindGiveUp))
		for _, e := range obs.Events() {
			if e.Kind == resilience.KindRetry {
				assert.ErrorIs(t, e.Err, errConnReset)
				assert.Positive(t, e.Delay)
			}
		}
	})
}

func TestMiddlewareKeepsTheKeyInProgressWhenTheStoreNeverRecords(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &flakyStore{Store: newStore()}
		s.failCompletes.Store(-1)
		var obs resiliencetest.Recorder
		var fences []int64
		next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			f, _ := idempotency.FenceFrom(r.Context())
			fences = append(fences, f.Fence)
			w.WriteHeader(http.StatusCreated)
		})
		h := idempotency.Middleware(s, idempotency.MiddlewareConfig{Lease: 3 * time.Second, Observer: &obs})(next)
		first := serve(h, request("POST", "k", `{}`))
		require.Equal(t, http.StatusCreated, first.Code)
		var gaveUp []resilience.Event
		for _, e := range obs.Events() {
			if e.Kind == resilience.KindGiveUp {
				gaveUp = append(gaveUp, e)
			}
		}
		require.Len(t, gaveUp, 1)
		assert.ErrorIs(t, gaveUp[0].Err, idempotency.ErrNotRecorded)
		assert.ErrorIs(t, gaveUp[0].Err, errConnReset)

		w := serve(h, request("POST", "k", `{}`))
		assert.Equal(t, http.StatusConflict, w.Code, "the key is not released")
		assert.Equal(t, []int64{1}, fences, "the handler does not run again while the lease lasts")

		// Once the lease has ended, a retry takes the key over, with a
		// higher fence.
		s.failCompletes.Store(0)
		time.Sleep(3 * time.Second)
		w = serve(h, request("POST", "k", `{}`))
		assert.Equal(t, http.StatusCreated, w.Code)
		assert.Empty(t, w.Header().Get("Idempotent-Replayed"))
		assert.Equal(t, []int64{1, 2}, fences)
	})
}

func TestMiddlewareHandlerReadsItsKeyAndFence(t *testing.T) {
	var got []idempotency.Fence
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := idempotency.FenceFrom(r.Context())
		require.True(t, ok)
		got = append(got, f)
		w.WriteHeader(http.StatusCreated)
	})
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{
		Tenant: func(r *http.Request) string { return r.Header.Get("X-Account") },
	})(next)
	for _, account := range []string{"acme", "acme", "globex"} {
		r := request("POST", "order-7", `{}`)
		r.Header.Set("X-Account", account)
		serve(h, r)
	}
	require.Len(t, got, 2, "the second acme request is a replay")
	assert.Equal(t, int64(1), got[0].Fence)
	assert.Equal(t, int64(1), got[1].Fence)
	assert.Contains(t, got[0].Key, "order-7")
	assert.NotEqual(t, got[0].Key, got[1].Key, "the key as stored, scoped by tenant")

	_, ok := idempotency.FenceFrom(request("POST", "k", `{}`).Context())
	assert.False(t, ok, "outside a run")
}

func TestMiddlewareReleaseKeyLetsARetryRunTheHandlerAgain(t *testing.T) {
	var fences []int64
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, _ := idempotency.FenceFrom(r.Context())
		fences = append(fences, f.Fence)
		if len(fences) == 1 {
			// The card network is down: nothing was charged, so a retry
			// may run again.
			require.True(t, idempotency.ReleaseKey(r.Context()))
			http.Error(w, "card network unreachable", http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusCreated)
	})
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{})(next)
	assert.Equal(t, http.StatusBadGateway, serve(h, request("POST", "k", `{}`)).Code)
	w := serve(h, request("POST", "k", `{}`))
	assert.Equal(t, http.StatusCreated, w.Code)
	assert.Empty(t, w.Header().Get("Idempotent-Replayed"), "the handler ran again")
	assert.Equal(t, "true", serve(h, request("POST", "k", `{}`)).Header().Get("Idempotent-Replayed"))
	assert.Equal(t, []int64{1, 2}, fences, "the fence is higher after a release")

	assert.False(t, idempotency.ReleaseKey(context.Background()), "outside a run")
}

func TestMiddlewareTakeoverRunsWithAHigherFenceAndTheStaleResponseIsNotRecorded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &flakyStore{Store: newStore()}
		s.failExtends.Store(true) // the first owner is cut off from the store
		var mu sync.Mutex
		var fences []int64
		var staleCause error
		resume := make(chan struct{})
		next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			f, _ := idempotency.FenceFrom(r.Context())
			mu.Lock()
			fences = append(fences, f.Fence)
			n := len(fences)
			mu.Unlock()
			if n == 1 {
				<-r.Context().Done()
				staleCause = context.Cause(r.Context())
				<-resume // the stale owner answers anyway
				_, _ = io.WriteString(w, "stale")
				return
			}
			_, _ = io.WriteString(w, "fresh")
		})
		h := idempotency.Middleware(s, idempotency.MiddlewareConfig{Lease: 3 * time.Second})(next)
		done := make(chan struct{})
		go func() {
			defer close(done)
			serve(h, request("POST", "k", `{}`))
		}()
		time.Sleep(4 * time.Second)
		s.failExtends.Store(false)
		synctest.Wait()
		assert.ErrorIs(t, staleCause, idempotency.ErrLockLost, "the stale owner's context says why it ended")

		w := serve(h, request("POST", "k", `{}`))
		assert.Equal(t, "fresh", w.Body.String())
		close(resume)
		<-done
		again := serve(h, request("POST", "k", `{}`))
		assert.Equal(t, "true", again.Header().Get("Idempotent-Replayed"))
		assert.Equal(t, "fresh", again.Body.String(), "the stale owner's response is not recorded")
		assert.Equal(t, []int64{1, 2}, fences)
	})
}

func TestMiddlewareKeepsAShortLeaseAliveForALongHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var runs atomic.Int32
		slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			runs.Add(1)
			time.Sleep(time.Minute)
			_, _ = io.WriteString(w, "done")
		})
		h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{Lease: 30 * time.Millisecond})(slow)
		done := make(chan struct{})
		go func() { defer close(done); serve(h, request("POST", "k", `{}`)) }()
		time.Sleep(30 * time.Second) // a thousand leases
		w := serve(h, request("POST", "k", `{}`))
		assert.Equal(t, http.StatusConflict, w.Code)
		<-done
		again := serve(h, request("POST", "k", `{}`))
		assert.Equal(t, "true", again.Header().Get("Idempotent-Replayed"))
		assert.Equal(t, "done", again.Body.String())
		assert.Equal(t, int32(1), runs.Load())
	})
}

func TestMiddlewareEmitsOneCallEventPerKeyedRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var obs resiliencetest.Recorder
		slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(200 * time.Millisecond)
			w.WriteHeader(http.StatusCreated)
		})
		h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{Name: "charges", Observer: &obs})(slow)
		serve(h, request("POST", "k", `{}`))          // runs
		serve(h, request("POST", "k", `{}`))          // replays
		serve(h, request("POST", "k", `{"other":1}`)) // refused: another request
		serve(h, request("POST", "", `{}`))           // no key: not guarded, no event
		var calls []resilience.Event
		for _, e := range obs.Events() {
			if e.Kind == resilience.KindCall {
				calls = append(calls, e)
			}
		}
		require.Len(t, calls, 3)
		assert.Equal(t, 200*time.Millisecond, calls[0].Duration)
		assert.NoError(t, calls[0].Err)
		assert.NoError(t, calls[1].Err)
		assert.ErrorIs(t, calls[2].Err, idempotency.ErrMismatch)
		assert.Equal(t, "charges", calls[2].Name)
	})
}
