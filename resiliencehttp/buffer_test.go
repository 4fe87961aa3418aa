package resiliencehttp_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/resiliencehttp"
	"github.com/magicmagnets/resilience/resiliencetest"
	"github.com/magicmagnets/resilience/timeout"
)

// Config.BufferBody: the body read inside the attempt.

func TestTransportBufferRetriesBodyCutMidwayWithTheSameKey(t *testing.T) {
	receipt := strings.Repeat("r", 2000)
	var runs atomic.Int32
	var mu sync.Mutex
	var keys []string
	charge := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs.Add(1)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, receipt)
	})
	store := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	faulty := resiliencetest.FaultyHandler(idempotency.Middleware(store, idempotency.MiddlewareConfig{})(charge),
		resiliencetest.HandlerConfig{Script: []resiliencetest.HTTPFault{resiliencetest.ResetBody(100)}})
	url := serveHandler(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		mu.Unlock()
		faulty.ServeHTTP(w, r)
	}))
	tr := newTransport(t, resiliencehttp.Config{Policy: quickRetry(3), BufferBody: 1 << 20})
	ctx := idempotency.WithKey(context.Background(), "order-42")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("pay 10"))
	require.NoError(t, err)

	resp, body, err := send(tr, req)

	require.NoError(t, err, "the caller gets a whole body")
	assert.Equal(t, http.StatusCreated, resp.StatusCode)
	assert.Equal(t, receipt, body)
	assert.Equal(t, "true", resp.Header.Get(idempotency.HeaderReplayed), "the retry got the recorded answer")
	assert.Equal(t, int32(1), runs.Load(), "charged once")
	assert.Equal(t, 1, faulty.Stats().Reset, "precondition: the first body was cut")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{`"order-42"`, `"order-42"`}, keys)
}

func TestTransportWithoutBufferReturnsBodyCutMidway(t *testing.T) {
	faulty := resiliencetest.FaultyHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, strings.Repeat("r", 2000))
	}), resiliencetest.HandlerConfig{Script: []resiliencetest.HTTPFault{resiliencetest.ResetBody(100)}})
	tr := newTransport(t, resiliencehttp.Config{Policy: quickRetry(3)})
	req, err := http.NewRequest(http.MethodGet, serveHandler(t, faulty), nil)
	require.NoError(t, err)

	_, body, err := send(tr, req)

	assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "the cut fails in the caller's read")
	assert.Len(t, body, 100)
	assert.Equal(t, 1, faulty.Stats().Requests)
}

func TestTransportBufferFailsKeylessPostWhoseBodyIsCut(t *testing.T) {
	faulty := resiliencetest.FaultyHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, strings.Repeat("r", 2000))
	}), resiliencetest.HandlerConfig{Script: []resiliencetest.HTTPFault{resiliencetest.ResetBody(100)}})
	tr := newTransport(t, resiliencehttp.Config{Policy: quickRetry(3), BufferBody: 1 << 20})
	req, err := http.NewRequest(http.MethodPost, serveHandler(t, faulty), strings.NewReader("pay 10"))
	require.NoError(t, err)

	resp, err := tr.RoundTrip(req)

	assert.Nil(t, resp)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.True(t, resilience.IsPermanent(err))
	assert.Equal(t, 1, faulty.Stats().Requests, "a POST without a key is not sent again")
}

func TestTransportBufferRetriesBodyStalledPastPerAttemptTimeout(t *testing.T) {
	s := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10")
		io.WriteString(w, "01234")
		http.NewResponseController(w).Flush()
		<-r.Context().Done() // the rest never comes
	}, ok("0123456789"))
	tr := newTransport(t, resiliencehttp.Config{
		Policy:     resilience.Chain(quickRetry(2), timeout.New(200*time.Millisecond)),
		BufferBody: 1 << 10,
	})

	resp, body := get(t, tr, s.URL())

	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "0123456789", body)
	assert.Equal(t, 2, s.requests())
}

func TestTransportBufferPassesLongerBodyThrough(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 10_000)
	cases := map[string]step{
		"content length": func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(big)))
			w.Write(big)
		},
		"chunked": func(w http.ResponseWriter, _ *http.Request) {
			for i := 0; i < len(big); i += 1000 {
				w.Write(big[i : i+1000])
				http.NewResponseController(w).Flush()
			}
		},
	}
	for name, answer := range cases {
		t.Run(name, func(t *testing.T) {
			s := serve(t, answer)
			tr := newTransport(t, resiliencehttp.Config{Policy: quickRetry(2), BufferBody: 100})

			resp, body := get(t, tr, s.URL())

			assert.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, string(big), body, "the whole body, streamed")
			assert.Equal(t, 1, s.requests())
		})
	}
}

func TestTransportBufferLeavesCutPastTheLimitToTheCaller(t *testing.T) {
	faulty := resiliencetest.FaultyHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, strings.Repeat("r", 2000))
	}), resiliencetest.HandlerConfig{Script: []resiliencetest.HTTPFault{resiliencetest.ResetBody(500)}})
	tr := newTransport(t, resiliencehttp.Config{Policy: quickRetry(3), BufferBody: 100})
	req, err := http.NewRequest(http.MethodGet, serveHandler(t, faulty), nil)
	require.NoError(t, err)

	_, body, err := send(tr, req)

	assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "a body over the limit streams as without a buffer")
	assert.Len(t, body, 500)
	assert.Equal(t, 1, faulty.Stats().Requests)
}

func TestTransportBufferedBodyIsReadableAfterAttemptEnds(t *testing.T) {
	s := serve(t, ok("hello"))
	attempts := &attemptContexts{}
	tr := newTransport(t, resiliencehttp.Config{
		Policy:     resilience.Chain(quickRetry(2), timeout.New(time.Second), attempts),
		BufferBody: 1 << 10,
	})
	req, err := http.NewRequest(http.MethodGet, s.URL(), nil)
	require.NoError(t, err)

	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	<-attempts.last().Done()
	body, err := io.ReadAll(resp.Body)

	require.NoError(t, err)
	assert.Equal(t, "hello", string(body))
}

func TestTransportBufferReusesConnections(t *testing.T) {
	s := serve(t, ok(strings.Repeat("b", 5000)))
	tr := newTransport(t, resiliencehttp.Config{Policy: quickRetry(2), BufferBody: 1 << 20})

	for range 50 {
		req, err := http.NewRequest(http.MethodGet, s.URL(), nil)
		require.NoError(t, err)
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close() // unread: the Transport has read it already
	}

	assert.Equal(t, 50, s.requests())
	assert.Equal(t, int64(1), s.conns.Load(), "a buffered body gives its connection back at once")
}

func TestTransportBufferLeavesHeadResponseAlone(t *testing.T) {
	s := serve(t, ok("hello"))
	tr := newTransport(t, resiliencehttp.Config{Policy: quickRetry(2), BufferBody: 1 << 10})
	req, err := http.NewRequest(http.MethodHead, s.URL(), nil)
	require.NoError(t, err)

	resp, body, err := send(tr, req)

	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Empty(t, body)
}
