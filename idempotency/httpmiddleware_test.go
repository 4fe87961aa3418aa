package idempotency_test

import (
	"context"
	"errors"
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

	"github.com/magicmagnets/resilience/idempotency"
)

// chargeHandler answers 201 with a fresh charge number per run.
type chargeHandler struct{ runs atomic.Int32 }

func (h *chargeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := h.runs.Add(1)
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Set-Cookie", "session=secret")
	w.Header().Set("Authorization", "Bearer secret")
	w.Header().Set("X-Charge", "yes")
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, `{"charge":`+string(rune('0'+n))+`,"request":`+string(body)+`}`)
}

func request(method, key, body string) *http.Request {
	r := httptest.NewRequest(method, "/charges?currency=eur", strings.NewReader(body))
	if key != "" {
		r.Header.Set("Idempotency-Key", key)
	}
	r.Header.Set("Content-Type", "application/json")
	return r
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestMiddlewareReplaysTheFirstResponseWithoutCallingTheHandler(t *testing.T) {
	next := &chargeHandler{}
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{})(next)
	first := serve(h, request("POST", "k1", `{"amount":50}`))
	require.Equal(t, http.StatusCreated, first.Code)
	assert.Empty(t, first.Header().Get("Idempotent-Replayed"))

	again := serve(h, request("POST", "k1", `{"amount":50}`))
	assert.Equal(t, http.StatusCreated, again.Code)
	assert.Equal(t, first.Body.String(), again.Body.String())
	assert.Equal(t, "true", again.Header().Get("Idempotent-Replayed"))
	assert.Equal(t, "yes", again.Header().Get("X-Charge"))
	assert.Equal(t, "application/json", again.Header().Get("Content-Type"))
	assert.Empty(t, again.Header().Get("Set-Cookie"), "Set-Cookie is never stored")
	assert.Empty(t, again.Header().Get("Authorization"), "Authorization is never stored")
	assert.Equal(t, int32(1), next.runs.Load())
}

func TestMiddlewareAcceptsQuotedAndBareKeysAlike(t *testing.T) {
	next := &chargeHandler{}
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{})(next)
	serve(h, request("POST", `"8e03978e-40d5"`, `{}`))
	again := serve(h, request("POST", `8e03978e-40d5`, `{}`))
	assert.Equal(t, "true", again.Header().Get("Idempotent-Replayed"))
	escaped := serve(h, request("POST", `"a\"b"`, `{}`))
	assert.Equal(t, http.StatusCreated, escaped.Code)
	assert.Equal(t, int32(2), next.runs.Load())
}

func TestMiddlewareRejectsMalformedKeysWith400(t *testing.T) {
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{})(&chargeHandler{})
	for _, key := range []string{`""`, `"unterminated`, `"bad\escape"`, "has space", strings.Repeat("k", 256), `"` + strings.Repeat("k", 256) + `"`, "caf\xc3\xa9"} {
		w := serve(h, request("POST", key, `{}`))
		assert.Equal(t, http.StatusBadRequest, w.Code, "key %q", key)
		assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
	}
	r := request("POST", "a", `{}`)
	r.Header.Add("Idempotency-Key", "b")
	assert.Equal(t, http.StatusBadRequest, serve(h, r).Code, "two keys")
}

func TestMiddlewarePassesRequestsWithoutKeyUnlessRequired(t *testing.T) {
	next := &chargeHandler{}
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{})(next)
	serve(h, request("POST", "", `{}`))
	serve(h, request("POST", "", `{}`))
	assert.Equal(t, int32(2), next.runs.Load())

	strict := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{RequireKey: true})(next)
	w := serve(strict, request("POST", "", `{}`))
	assert.Equal(t, http.StatusBadRequest, w.Code)
	assert.Contains(t, w.Body.String(), `"status":400`)
	assert.Equal(t, int32(2), next.runs.Load())
}

func TestMiddlewareGuardsOnlyConfiguredMethods(t *testing.T) {
	next := &chargeHandler{}
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{})(next)
	serve(h, request("PUT", "k", `{}`))
	serve(h, request("PUT", "k", `{}`))
	serve(h, request("PATCH", "p", `{}`))
	serve(h, request("PATCH", "p", `{}`))
	assert.Equal(t, int32(3), next.runs.Load(), "PUT passes through, PATCH is guarded")

	puts := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{Methods: []string{"PUT"}})(next)
	serve(puts, request("PUT", "k", `{}`))
	serve(puts, request("PUT", "k", `{}`))
	assert.Equal(t, int32(4), next.runs.Load())
}

func TestMiddlewareAnswers409WithAShortRetryAfterWhileTheFirstRuns(t *testing.T) {
	for _, c := range []struct {
		retryAfter time.Duration
		want       string
	}{{0, "1"}, {300 * time.Millisecond, "1"}, {3 * time.Second, "3"}, {2500 * time.Millisecond, "3"}} {
		synctest.Test(t, func(t *testing.T) {
			entered, release := make(chan struct{}), make(chan struct{})
			slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				close(entered)
				<-release
			})
			h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{Lease: 30 * time.Second, InProgressRetryAfter: c.retryAfter})(slow)
			done := make(chan struct{})
			go func() { defer close(done); serve(h, request("POST", "k", `{}`)) }()
			<-entered
			time.Sleep(2500 * time.Millisecond)
			w := serve(h, request("POST", "k", `{}`))
			assert.Equal(t, http.StatusConflict, w.Code)
			assert.Equal(t, c.want, w.Header().Get("Retry-After"), "InProgressRetryAfter %v, not the 27.5s left on the lease", c.retryAfter)
			assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
			close(release)
			<-done
		})
	}
}

func TestMiddlewareAnswers422ForAKeyReusedWithADifferentRequest(t *testing.T) {
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{})(&chargeHandler{})
	serve(h, request("POST", "k", `{"amount":50}`))
	for _, r := range []*http.Request{
		request("POST", "k", `{"amount":60}`),
		request("PATCH", "k", `{"amount":50}`),
		httptest.NewRequest("POST", "/charges?currency=usd", strings.NewReader(`{"amount":50}`)),
		httptest.NewRequest("POST", "/refunds?currency=eur", strings.NewReader(`{"amount":50}`)),
	} {
		r.Header.Set("Idempotency-Key", "k")
		assert.Equal(t, http.StatusUnprocessableEntity, serve(h, r).Code, "%s %s", r.Method, r.URL)
	}
}

func TestMiddlewareCanonicalJSONIgnoresKeyOrderAndSpacing(t *testing.T) {
	next := &chargeHandler{}
	plain := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{})(next)
	serve(plain, request("POST", "k", `{"a":1,"b":[1,2]}`))
	assert.Equal(t, http.StatusUnprocessableEntity, serve(plain, request("POST", "k", `{ "b":[1,2], "a":1 }`)).Code)

	canon := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{CanonicalJSON: true})(next)
	serve(canon, request("POST", "k", `{"a":1,"b":[1,2]}`))
	w := serve(canon, request("POST", "k", `{ "b":[1,2], "a":1 }`))
	assert.Equal(t, "true", w.Header().Get("Idempotent-Replayed"))
	assert.Equal(t, http.StatusUnprocessableEntity, serve(canon, request("POST", "k", `{"a":1.0,"b":[1,2]}`)).Code, "numbers keep their text")
}

func TestMiddlewareAnswers413ForAnOversizedBody(t *testing.T) {
	next := &chargeHandler{}
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{MaxBodySize: 8})(next)
	assert.Equal(t, http.StatusRequestEntityTooLarge, serve(h, request("POST", "k", `{"amount":50}`)).Code)
	assert.Equal(t, http.StatusCreated, serve(h, request("POST", "k", `{"a":5}`)).Code, "exactly the limit")
	assert.Equal(t, int32(1), next.runs.Load())
}

func TestMiddlewareRecordsEveryStatusButThoseThatMeanNotProcessed(t *testing.T) {
	cases := []struct {
		status int
		stored bool
	}{{200, true}, {201, true}, {302, true}, {400, true}, {404, true}, {422, true},
		{500, true}, {502, true}, {504, true},
		{408, false}, {409, false}, {425, false}, {429, false}, {503, false}}
	for _, c := range cases {
		var runs int
		next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { runs++; w.WriteHeader(c.status) })
		h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{})(next)
		serve(h, request("POST", "k", `{}`))
		w := serve(h, request("POST", "k", `{}`))
		assert.Equal(t, c.status, w.Code)
		if c.stored {
			assert.Equal(t, 1, runs, "status %d is recorded", c.status)
			assert.Equal(t, "true", w.Header().Get("Idempotent-Replayed"), "status %d is replayed", c.status)
		} else {
			assert.Equal(t, 2, runs, "status %d is not recorded", c.status)
		}
	}
}

func TestMiddlewareRecordsA500AfterTheHandlerCharged(t *testing.T) {
	var charges int
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		charges++ // the card network answered...
		http.Error(w, "ledger write failed", http.StatusInternalServerError)
	})
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{})(next)
	first := serve(h, request("POST", "k", `{}`))
	require.Equal(t, http.StatusInternalServerError, first.Code)
	again := serve(h, request("POST", "k", `{}`))
	assert.Equal(t, http.StatusInternalServerError, again.Code)
	assert.Equal(t, "true", again.Header().Get("Idempotent-Replayed"))
	assert.Equal(t, first.Body.String(), again.Body.String())
	assert.Equal(t, 1, charges, "the retry does not charge again")
}

func TestMiddlewareStoresEveryStatusWhenAsked(t *testing.T) {
	var runs int
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { runs++; w.WriteHeader(503) })
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{StoreAllStatuses: true})(next)
	serve(h, request("POST", "k", `{}`))
	w := serve(h, request("POST", "k", `{}`))
	assert.Equal(t, 503, w.Code)
	assert.Equal(t, "true", w.Header().Get("Idempotent-Replayed"))
	assert.Equal(t, 1, runs)
}

func TestMiddlewareScopesKeysByTenant(t *testing.T) {
	next := &chargeHandler{}
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{
		Tenant: func(r *http.Request) string { return r.Header.Get("X-Tenant") },
	})(next)
	for _, tenant := range []string{"acme", "globex", "acme"} {
		r := request("POST", "k", `{}`)
		r.Header.Set("X-Tenant", tenant)
		serve(h, r)
	}
	assert.Equal(t, int32(2), next.runs.Load(), "one run per tenant")

	// A tenant and key that concatenate alike still differ.
	for _, tk := range [][2]string{{"ab", "c"}, {"a", "bc"}} {
		r := request("POST", tk[1], `{}`)
		r.Header.Set("X-Tenant", tk[0])
		serve(h, r)
	}
	assert.Equal(t, int32(4), next.runs.Load())
}

func TestMiddlewareAnswers503WhenTheStoreIsDown(t *testing.T) {
	down := &faultyStore{Store: newStore(), claim: func(context.Context, string, string, string, time.Duration) (idempotency.Claim, error) {
		return idempotency.Claim{}, errors.New("connection refused")
	}}
	next := &chargeHandler{}
	w := serve(idempotency.Middleware(down, idempotency.MiddlewareConfig{})(next), request("POST", "k", `{}`))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
	assert.Equal(t, int32(0), next.runs.Load())

	w = serve(idempotency.Middleware(down, idempotency.MiddlewareConfig{RunWithoutStore: true})(next), request("POST", "k", `{"amount":50}`))
	assert.Equal(t, http.StatusCreated, w.Code)
	assert.Equal(t, int32(1), next.runs.Load())
	assert.Contains(t, w.Body.String(), `"request":{"amount":50}`, "the handler reads the body the middleware read")
}

func TestMiddlewareReleasesTheKeyWhenTheHandlerPanics(t *testing.T) {
	s := newStore()
	panicky := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
	assert.Panics(t, func() {
		serve(idempotency.Middleware(s, idempotency.MiddlewareConfig{})(panicky), request("POST", "k", `{}`))
	})
	next := &chargeHandler{}
	assert.Equal(t, http.StatusCreated, serve(idempotency.Middleware(s, idempotency.MiddlewareConfig{})(next), request("POST", "k", `{}`)).Code)
	assert.Equal(t, int32(1), next.runs.Load())
}

func TestMiddlewareRecordsAPlaceholderForAResponseOverMaxResponseSize(t *testing.T) {
	next := &chargeHandler{}
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{MaxResponseSize: 10})(next)
	first := serve(h, request("POST", "k", `{}`))
	assert.Equal(t, http.StatusCreated, first.Code)
	assert.Greater(t, first.Body.Len(), 10, "sent in full")

	again := serve(h, request("POST", "k", `{}`))
	assert.Equal(t, http.StatusInternalServerError, again.Code)
	assert.Equal(t, "true", again.Header().Get("Idempotent-Replayed"))
	assert.Equal(t, "application/problem+json", again.Header().Get("Content-Type"))
	assert.Contains(t, again.Body.String(), "processed, but its response could not be recorded")
	assert.Empty(t, again.Header().Get("X-Charge"), "nothing of the unrecorded response is replayed")
	assert.Equal(t, int32(1), next.runs.Load(), "the handler does not run again")
}

func TestMiddlewareRecordsAPlaceholderForAResponseTheStoreRefuses(t *testing.T) {
	var runs int
	big := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs++
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(make([]byte, 2000))
	})
	s := idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxResultSize: 1000})
	h := idempotency.Middleware(s, idempotency.MiddlewareConfig{})(big)
	first := serve(h, request("POST", "k", `{}`))
	assert.Equal(t, 2000, first.Body.Len(), "sent in full")
	again := serve(h, request("POST", "k", `{}`))
	assert.Equal(t, http.StatusInternalServerError, again.Code)
	assert.Equal(t, "true", again.Header().Get("Idempotent-Replayed"))
	assert.Contains(t, again.Body.String(), "larger than the store accepts")
	assert.Equal(t, 1, runs, "the handler does not run again")
}

func TestMiddlewarePanicsOnProgrammerErrors(t *testing.T) {
	assert.PanicsWithValue(t, "idempotency: Middleware: nil store", func() { idempotency.Middleware(nil, idempotency.MiddlewareConfig{}) })
	for _, c := range []idempotency.MiddlewareConfig{
		{MaxBodySize: -1}, {MaxResponseSize: -1}, {Lease: -1}, {Retention: -1}, {InProgressRetryAfter: -1},
	} {
		err := c.Validate()
		require.Error(t, err, "%+v", c)
		assert.PanicsWithValue(t, err.Error(), func() { idempotency.Middleware(newStore(), c) })
	}
	assert.NoError(t, idempotency.MiddlewareConfig{}.Validate())
}
