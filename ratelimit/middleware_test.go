package ratelimit_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/ratelimit"
	"github.com/magicmagnets/resilience/resiliencetest"
)

// byHeader keys requests by their X-Client header.
func byHeader(r *http.Request) string { return r.Header.Get("X-Client") }

var hello = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "hello") })

func serve(h http.Handler, client string) *httptest.ResponseRecorder {
	return serveCtx(context.Background(), h, client)
}

func serveCtx(ctx context.Context, h http.Handler, client string) *httptest.ResponseRecorder {
	r := httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	if client != "" {
		r.Header.Set("X-Client", client)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestMiddlewareAdmitsWithTheRemainingQuotaThenAnswers429(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := ratelimit.NewKeyed(ratelimit.Config{Rate: 2, Burst: 3}, 0)
		h := ratelimit.Middleware(k, byHeader)(hello)
		for i, want := range []string{`"default";r=2;t=1`, `"default";r=1;t=1`, `"default";r=0;t=2`} {
			w := serve(h, "alice")
			require.Equal(t, http.StatusOK, w.Code, "request %d", i)
			assert.Equal(t, "hello", w.Body.String())
			assert.Equal(t, `"default";q=3;w=2`, w.Header().Get("RateLimit-Policy"), "3 tokens, refilled from empty in 1.5s")
			assert.Equal(t, want, w.Header().Get("RateLimit"), "request %d", i)
		}
		w := serve(h, "alice")
		assert.Equal(t, http.StatusTooManyRequests, w.Code)
		assert.Equal(t, "1", w.Header().Get("Retry-After"), "500ms until a token, rounded up")
		assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
		assert.Contains(t, w.Body.String(), `"status":429`)
		assert.NotContains(t, w.Body.String(), "hello")
		assert.Equal(t, `"default";q=3;w=2`, w.Header().Get("RateLimit-Policy"))
		assert.Equal(t, `"default";r=0;t=2`, w.Header().Get("RateLimit"))

		assert.Equal(t, http.StatusOK, serve(h, "bob").Code, "bob has his own limit")
		time.Sleep(500 * time.Millisecond)
		assert.Equal(t, http.StatusOK, serve(h, "alice").Code, "the refusal spent nothing: a token at 500ms")
	})
}

func TestMiddlewareNamesThePolicyByConfigName(t *testing.T) {
	for name, want := range map[string]string{
		"api":        `"api"`,
		`a "quoted"`: `"a \"quoted\""`,
		`back\slash`: `"back\\slash"`,
		"naïve":      `"default"`,
		"tab\there":  `"default"`,
	} {
		k := ratelimit.NewKeyed(ratelimit.Config{Name: name, Rate: 100, Per: time.Minute, Burst: 100}, 0)
		w := serve(ratelimit.Middleware(k, byHeader)(hello), "c")
		assert.Equal(t, want+";q=100;w=60", w.Header().Get("RateLimit-Policy"), "name %q", name)
		assert.Equal(t, want+";r=99;t=1", w.Header().Get("RateLimit"), "name %q", name)
	}
}

func TestMiddlewareLetsThroughARequestWithoutAKey(t *testing.T) {
	k := ratelimit.NewKeyed(ratelimit.Config{Rate: 1}, 0)
	h := ratelimit.Middleware(k, byHeader)(hello)
	for range 5 {
		w := serve(h, "")
		assert.Equal(t, http.StatusOK, w.Code)
		assert.Empty(t, w.Header().Get("RateLimit"))
		assert.Empty(t, w.Header().Get("RateLimit-Policy"))
	}
	assert.Zero(t, k.Len())
}

func TestMiddlewareAnswers400ToAKeyTooLong(t *testing.T) {
	k := ratelimit.NewKeyed(ratelimit.Config{Rate: 1}, 0)
	w := serve(ratelimit.Middleware(k, byHeader)(hello), strings.Repeat("x", ratelimit.MaxKeyLen+1))
	assert.Equal(t, http.StatusBadRequest, w.Code)
	assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
	assert.Contains(t, w.Body.String(), `"status":400`)
	assert.Empty(t, w.Header().Get("RateLimit"))
	assert.Zero(t, k.Len())
}

func TestMiddlewareAnswers503WhenTheStoreCannotDecide(t *testing.T) {
	k := ratelimit.NewKeyed(ratelimit.Config{Rate: 1, Store: failingStore(), Key: "api"}, 0)
	w := serve(ratelimit.Middleware(k, byHeader)(hello), "alice")
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Contains(t, w.Body.String(), `"status":503`)
	assert.Empty(t, w.Header().Get("RateLimit"), "no quota to tell")
	assert.Empty(t, w.Header().Get("RateLimit-Policy"))
	assert.Empty(t, w.Header().Get("Retry-After"))
}

func TestMiddlewareWithAStoreTellsTheStoresQuota(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := ratelimit.NewKeyed(ratelimit.Config{Rate: 1, Burst: 2, Store: ratelimit.NewMemoryStore(0), Key: "api"}, 0)
		h := ratelimit.Middleware(k, byHeader)(hello)
		assert.Equal(t, `"default";r=1;t=1`, serve(h, "alice").Header().Get("RateLimit"))
		assert.Equal(t, `"default";r=0;t=2`, serve(h, "alice").Header().Get("RateLimit"))
		w := serve(h, "alice")
		assert.Equal(t, http.StatusTooManyRequests, w.Code)
		assert.Equal(t, "1", w.Header().Get("Retry-After"))
		assert.Equal(t, `"default";r=0;t=2`, w.Header().Get("RateLimit"))
		assert.Equal(t, `"default";q=2;w=2`, w.Header().Get("RateLimit-Policy"))
	})
}

func TestMiddlewareWaitsWithinMaxWaitAndGivesTheTokenBackWhenTheClientLeaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := ratelimit.NewKeyed(ratelimit.Config{Rate: 1, MaxWait: 2 * time.Second}, 0)
		h := ratelimit.Middleware(k, byHeader)(hello)
		require.Equal(t, http.StatusOK, serve(h, "alice").Code)

		start := time.Now()
		assert.Equal(t, http.StatusOK, serve(h, "alice").Code, "waits for the token")
		assert.Equal(t, time.Second, time.Since(start))

		ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
		defer cancel()
		ctx, leave := context.WithCancel(ctx)
		go func() { time.Sleep(500 * time.Millisecond); leave() }()
		w := serveCtx(ctx, h, "alice")
		assert.Equal(t, http.StatusServiceUnavailable, w.Code, "the client left while waiting")
		start = time.Now()
		assert.Equal(t, http.StatusOK, serve(h, "alice").Code)
		assert.Equal(t, 500*time.Millisecond, time.Since(start), "the next request gets the token the leaver gave back")
	})
}

func TestMiddlewarePanicsOnNilArguments(t *testing.T) {
	k := ratelimit.NewKeyed(ratelimit.Config{Rate: 1}, 0)
	assert.PanicsWithValue(t, "ratelimit: Middleware: nil Keyed", func() { ratelimit.Middleware(nil, byHeader) })
	assert.PanicsWithValue(t, "ratelimit: Middleware: nil key function", func() { ratelimit.Middleware(k, nil) })
}

func TestClientIPIsTheConnectionsPeerNeverAForwardedHeader(t *testing.T) {
	for addr, want := range map[string]string{
		"192.0.2.1:1234":       "192.0.2.1",
		"[2001:db8::1]:443":    "2001:db8::1",
		"192.0.2.7":            "192.0.2.7",
		"":                     "",
		"@unix-socket-peer:12": "@unix-socket-peer",
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = addr
		r.Header.Set("X-Forwarded-For", "203.0.113.9")
		r.Header.Set("X-Real-IP", "203.0.113.9")
		r.Header.Set("Forwarded", "for=203.0.113.9")
		assert.Equal(t, want, ratelimit.ClientIP(r), "RemoteAddr %q", addr)
	}
}

func TestMiddlewareEmitsACallPerLimitedRequest(t *testing.T) {
	rec := new(resiliencetest.Recorder)
	k := ratelimit.NewKeyed(ratelimit.Config{Name: "api", Rate: 1, Per: time.Hour, Observer: rec}, 0)
	h := ratelimit.Middleware(k, byHeader)(hello)
	require.Equal(t, http.StatusOK, serve(h, "alice").Code)
	require.Equal(t, http.StatusTooManyRequests, serve(h, "alice").Code)
	require.Equal(t, http.StatusOK, serve(h, "").Code)
	calls := ofKind(rec, resilience.KindCall)
	require.Len(t, calls, 2, "none for the request without a key")
	assert.NoError(t, calls[0].Err)
	assert.ErrorIs(t, calls[1].Err, ratelimit.ErrLimited)
	rejected := ofKind(rec, resilience.KindRejected)
	require.Len(t, rejected, 1)
	assert.Equal(t, "api", rejected[0].Name)
}
