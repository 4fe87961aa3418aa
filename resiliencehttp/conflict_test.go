package resiliencehttp_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/resiliencehttp"
	"github.com/magicmagnets/resilience/retry"
	"github.com/magicmagnets/resilience/timeout"
)

// The 409 an idempotency server answers while a request with the same key
// is running.

// handlerBase is an in-memory base transport that serves every request
// with a handler, so a real server-side handler runs inside a synctest
// bubble.
type handlerBase struct{ h http.Handler }

func (b handlerBase) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	b.h.ServeHTTP(rec, req)
	if req.Body != nil {
		req.Body.Close()
	}
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// readmeClient is the policy per host of the README's recommended client.
func readmeClient(host string) resilience.Policy {
	return resilience.Chain(
		timeout.New(10*time.Second),
		retry.New(retry.Config{MaxAttempts: 4}),
		breaker.New(breaker.Config{Name: host}),
		timeout.New(2*time.Second),
	)
}

func TestReadmeClientWaitsOutInProgressConflictAndGetsTheReplay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var runs atomic.Int32
		release := make(chan struct{})
		charge := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			runs.Add(1)
			<-release
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, "charged")
		})
		store := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
		base := handlerBase{idempotency.Middleware(store, idempotency.MiddlewareConfig{})(charge)}
		ctx := idempotency.WithKey(context.Background(), "order-42")
		first := make(chan *http.Response, 1)
		go func() { // the first send, still running when the retry arrives
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://pay.test/charges", strings.NewReader("pay 10"))
			req.Header.Set("Idempotency-Key", `"order-42"`)
			resp, _ := base.RoundTrip(req)
			first <- resp
		}()
		synctest.Wait()
		require.Equal(t, int32(1), runs.Load(), "precondition: the first request holds the key")
		time.AfterFunc(500*time.Millisecond, func() { close(release) })
		tr := resiliencehttp.New(resiliencehttp.Config{Base: base, PerHost: readmeClient, BufferBody: 1 << 20})
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://pay.test/charges", strings.NewReader("pay 10"))
		start := time.Now()

		resp, body, err := send(tr, req)

		require.NoError(t, err)
		assert.Equal(t, http.StatusCreated, resp.StatusCode, "the first request's answer, not the 409")
		assert.Equal(t, "charged", body)
		assert.Equal(t, "true", resp.Header.Get(idempotency.HeaderReplayed))
		assert.Equal(t, int32(1), runs.Load(), "charged once")
		assert.GreaterOrEqual(t, time.Since(start), time.Second, "the server's Retry-After was honoured")
		assert.Less(t, time.Since(start), 2*time.Second)
		(<-first).Body.Close()
	})
}

func TestTransportRetriesConflictOfKeyedRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &fakeBase{respond: func(n int, req *http.Request) (*http.Response, error) {
			if n == 1 {
				return reply(req, http.StatusConflict, "in progress", "Retry-After", "1"), nil
			}
			return reply(req, http.StatusOK, "paid"), nil
		}}
		tr := resiliencehttp.New(resiliencehttp.Config{Base: base})
		ctx := idempotency.WithKey(context.Background(), "order-42")
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://api.test/", strings.NewReader("pay 10"))

		resp, body, err := send(tr, req)

		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "paid", body)
		assert.Len(t, base.requests(), 2)
	})
}

func TestTransportReturnsConflictOfRequestWithoutKey(t *testing.T) {
	for _, method := range []string{http.MethodPost, http.MethodGet, http.MethodPut} {
		t.Run(method, func(t *testing.T) {
			base := &fakeBase{respond: always(http.StatusConflict, "Retry-After", "1")}
			tr := resiliencehttp.New(resiliencehttp.Config{Base: base, Policy: quickRetry(3)})
			req, _ := http.NewRequest(method, "http://api.test/", strings.NewReader("v2"))

			resp, _, err := send(tr, req)

			require.NoError(t, err)
			assert.Equal(t, http.StatusConflict, resp.StatusCode)
			assert.Len(t, base.requests(), 1, "a 409 to a request without a key is an answer")
		})
	}
}

func TestTransportReturnsConflictAtOnceWhenRetryAfterExceedsBudget(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := &fakeBase{respond: always(http.StatusConflict, "Retry-After", "5")}
		tr := resiliencehttp.New(resiliencehttp.Config{
			Base:   base,
			Policy: resilience.Chain(timeout.New(2*time.Second), retry.New(retry.Config{MaxAttempts: 4})),
		})
		ctx := idempotency.WithKey(context.Background(), "order-42")
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://api.test/", strings.NewReader("pay 10"))
		start := time.Now()

		resp, _, err := send(tr, req)

		require.NoError(t, err)
		assert.Equal(t, http.StatusConflict, resp.StatusCode, "the server's last answer")
		assert.Zero(t, time.Since(start), "a wait past the caller's budget is not started")
		assert.Len(t, base.requests(), 1)
	})
}

func TestRetryableStatusRetriesConflictOnlyForKeyedRequest(t *testing.T) {
	keyed, _ := http.NewRequest(http.MethodPost, "http://api.test/", nil)
	keyed.Header.Set("Idempotency-Key", `"k"`)
	plain, _ := http.NewRequest(http.MethodPost, "http://api.test/", nil)
	marked, _ := http.NewRequest(http.MethodPost, "http://api.test/", nil)
	marked.Header["Idempotency-Key"] = nil // idempotent for net/http, but no key is sent

	assert.True(t, resiliencehttp.RetryableStatus(&http.Response{StatusCode: http.StatusConflict, Request: keyed}))
	assert.False(t, resiliencehttp.RetryableStatus(&http.Response{StatusCode: http.StatusConflict, Request: plain}))
	assert.False(t, resiliencehttp.RetryableStatus(&http.Response{StatusCode: http.StatusConflict, Request: marked}))
	assert.False(t, resiliencehttp.RetryableStatus(&http.Response{StatusCode: http.StatusConflict}))
	for _, code := range []int{http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout} {
		assert.True(t, resiliencehttp.RetryableStatus(&http.Response{StatusCode: code}), code)
	}
	for _, code := range []int{http.StatusOK, http.StatusBadRequest, http.StatusUnprocessableEntity, http.StatusInternalServerError} {
		assert.False(t, resiliencehttp.RetryableStatus(&http.Response{StatusCode: code, Request: keyed}), code)
	}
}
