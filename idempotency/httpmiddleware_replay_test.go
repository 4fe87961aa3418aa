package idempotency_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
)

// The replay equals the response the first client got, whatever the handler
// did to produce it.

func TestMiddlewareReplaysHeadersSetBeforeAnImplicit200(t *testing.T) {
	var runs int
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs++
		w.Header().Set("Location", "/orders/42")
		w.Header().Set("X-Order", "42")
	})
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{})(next)
	first := serve(h, request("POST", "k", `{}`))
	require.Equal(t, http.StatusOK, first.Code)
	require.Equal(t, "/orders/42", first.Header().Get("Location"))

	again := serve(h, request("POST", "k", `{}`))
	assert.Equal(t, "true", again.Header().Get("Idempotent-Replayed"))
	assert.Equal(t, http.StatusOK, again.Code)
	assert.Equal(t, "/orders/42", again.Header().Get("Location"))
	assert.Equal(t, "42", again.Header().Get("X-Order"))
	assert.Empty(t, again.Body.String())
	assert.Equal(t, 1, runs)
}

func TestMiddlewareRecordsThe200AFlushBeforeWriteHeaderSent(t *testing.T) {
	for name, flush := range map[string]func(http.ResponseWriter){
		"Flusher": func(w http.ResponseWriter) {
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
		},
		"ResponseController": func(w http.ResponseWriter) { _ = http.NewResponseController(w).Flush() },
	} {
		t.Run(name, func(t *testing.T) {
			var runs int
			next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				runs++
				w.Header().Set("X-Order", "42")
				flush(w)
				w.WriteHeader(http.StatusCreated) // too late: 200 is sent
				_, _ = io.WriteString(w, "created")
			})
			h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{})(next)
			first := serve(h, request("POST", "k", `{}`))
			require.Equal(t, http.StatusOK, first.Code, "the client saw 200")
			require.True(t, first.Flushed)

			again := serve(h, request("POST", "k", `{}`))
			assert.Equal(t, "true", again.Header().Get("Idempotent-Replayed"))
			assert.Equal(t, http.StatusOK, again.Code, "the replay says what the client saw")
			assert.Equal(t, "42", again.Header().Get("X-Order"))
			assert.Equal(t, "created", again.Body.String())
			assert.Equal(t, 1, runs)
		})
	}
}

// withOuterHeaders is middleware outside the idempotency middleware that
// sets a fresh request id and a content type on every response.
func withOuterHeaders(next http.Handler) http.Handler {
	var n atomic.Int32
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "req-"+strconv.Itoa(int(n.Add(1))))
		w.Header().Set("Content-Type", "application/json")
		w.Header()["x-trace"] = []string{"outer"} // a non-canonical spelling
		next.ServeHTTP(w, r)
	})
}

func TestMiddlewareDoesNotRecordHeadersSetByOuterMiddleware(t *testing.T) {
	var runs int
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs++
		w.Header().Set("Content-Type", "application/json") // the value outer middleware set
		w.Header().Set("X-Charge", "ch_1")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"charge":"ch_1"}`)
	})
	h := withOuterHeaders(idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{})(next))
	first := serve(h, request("POST", "k", `{}`))
	require.Equal(t, []string{"req-1"}, first.Header().Values("X-Request-Id"))

	again := serve(h, request("POST", "k", `{}`))
	require.Equal(t, "true", again.Header().Get("Idempotent-Replayed"))
	assert.Equal(t, []string{"req-2"}, again.Header().Values("X-Request-Id"), "this request's id, once")
	assert.Equal(t, []string{"application/json"}, again.Header().Values("Content-Type"), "once")
	assert.Equal(t, []string{"outer"}, headerValues(again.Header(), "X-Trace"), "once, whatever its spelling")
	assert.Equal(t, []string{"ch_1"}, again.Header().Values("X-Charge"))
	assert.Equal(t, http.StatusCreated, again.Code)
	assert.Equal(t, 1, runs)
}

func TestMiddlewareReplaysHeadersTheHandlerChangedInPlaceOfOuterOnes(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/csv")  // replaces the outer value
		w.Header()["x-trace"] = []string{"handler"} // replaces it under the same spelling
		w.Header().Add("X-Request-Id", "inner")     // adds to the outer value
		w.WriteHeader(http.StatusCreated)
	})
	h := withOuterHeaders(idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{})(next))
	serve(h, request("POST", "k", `{}`))
	again := serve(h, request("POST", "k", `{}`))
	require.Equal(t, "true", again.Header().Get("Idempotent-Replayed"))
	assert.Equal(t, []string{"text/csv"}, again.Header().Values("Content-Type"))
	assert.Equal(t, []string{"handler"}, headerValues(again.Header(), "X-Trace"))
	assert.Equal(t, []string{"req-1", "inner"}, again.Header().Values("X-Request-Id"),
		"the header as the handler left it, which is what the first client got")
}

// headerValues returns the values of every spelling of name in h.
func headerValues(h http.Header, name string) []string {
	var values []string
	for k, v := range h {
		if strings.EqualFold(k, name) {
			values = append(values, v...)
		}
	}
	return values
}

// streamer answers 200 in two parts, flushing the first, and waits for
// proceed between them.
func streamer(proceed <-chan struct{}, runs *atomic.Int32) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs.Add(1)
		f, ok := w.(http.Flusher)
		if !ok {
			http.Error(w, "streaming unsupported", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: one\n\n")
		f.Flush()
		<-proceed
		_, _ = io.WriteString(w, "data: two\n\n")
		if err := http.NewResponseController(w).Flush(); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
}

func TestMiddlewarePassesFlushesThroughToTheClient(t *testing.T) {
	proceed := make(chan struct{})
	var runs atomic.Int32
	srv := httptest.NewServer(idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{})(streamer(proceed, &runs)))
	defer srv.Close()
	post := func() *http.Response {
		r, err := http.NewRequest("POST", srv.URL, strings.NewReader(`{}`))
		require.NoError(t, err)
		r.Header.Set("Idempotency-Key", `"stream-1"`)
		resp, err := srv.Client().Do(r)
		require.NoError(t, err)
		return resp
	}

	resp := post()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	body := bufio.NewReader(resp.Body)
	line, err := body.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "data: one\n", line, "the first event arrives while the handler still runs")
	close(proceed)
	rest, err := io.ReadAll(body)
	require.NoError(t, err)
	assert.Equal(t, "\ndata: two\n\n", string(rest))
	require.NoError(t, resp.Body.Close())

	again := post()
	defer again.Body.Close()
	replayed, err := io.ReadAll(again.Body)
	require.NoError(t, err)
	assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	assert.Equal(t, "text/event-stream", again.Header.Get("Content-Type"))
	assert.Equal(t, "data: one\n\ndata: two\n\n", string(replayed))
	assert.Equal(t, int32(1), runs.Load())
}

// plainWriter is a ResponseWriter that cannot flush.
type plainWriter struct{ http.ResponseWriter }

func TestMiddlewareReportsThatTheUnderlyingWriterCannotFlush(t *testing.T) {
	var flushErr error
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		flushErr = http.NewResponseController(w).Flush()
	})
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{})(next)
	h.ServeHTTP(plainWriter{httptest.NewRecorder()}, request("POST", "k", `{}`))
	assert.ErrorIs(t, flushErr, http.ErrNotSupported)
}

// Over a memory store the middleware answers a replay by reading the
// record; every other state still gets the claim's answer.
func TestMiddlewareOverAMemoryStoreReplaysOnlyACompletedRecordInItsRetention(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		next := &chargeHandler{}
		h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{Retention: time.Hour})(next)
		first := serve(h, request("POST", "k", `{"amount":50}`))
		require.Equal(t, http.StatusCreated, first.Code)

		again := serve(h, request("POST", "k", `{"amount":50}`))
		assert.Equal(t, "true", again.Header().Get("Idempotent-Replayed"))
		assert.Equal(t, first.Body.String(), again.Body.String())
		assert.Equal(t, http.StatusUnprocessableEntity, serve(h, request("POST", "k", `{"amount":60}`)).Code)

		gone, cancel := context.WithCancel(t.Context())
		cancel()
		w := serve(h, request("POST", "k", `{"amount":50}`).WithContext(gone))
		assert.Empty(t, w.Header().Get("Idempotent-Replayed"), "a client that went away is sent nothing")
		assert.Zero(t, w.Body.Len())

		time.Sleep(time.Hour) // the retention ends
		w = serve(h, request("POST", "k", `{"amount":50}`))
		assert.Equal(t, http.StatusCreated, w.Code)
		assert.Empty(t, w.Header().Get("Idempotent-Replayed"), "the key runs again")
		assert.Equal(t, int32(2), next.runs.Load())
	})
}
