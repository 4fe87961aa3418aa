package resiliencehttp_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/resiliencehttp"
	"github.com/magicmagnets/resilience/timeout"
)

func TestTransportReusesConnectionsAcrossRetries(t *testing.T) {
	var n atomic.Int64
	s := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 1 {
			status(http.StatusServiceUnavailable)(w, r) // every first attempt
			return
		}
		ok("hello")(w, r)
	})
	tr := newTransport(t, resiliencehttp.Config{Policy: quickRetry(2)})

	for range 100 {
		resp, body := get(t, tr, s.URL())
		require.Equal(t, http.StatusOK, resp.StatusCode)
		require.Equal(t, "hello", body)
	}

	assert.Equal(t, 200, s.requests())
	assert.LessOrEqual(t, s.conns.Load(), int64(2), "discarded responses are drained so their connections are reused")
}

// attemptContexts is a policy that records the context of each attempt.
type attemptContexts struct {
	mu   sync.Mutex
	ctxs []context.Context
}

func (a *attemptContexts) Do(ctx context.Context, fn resilience.Func) error {
	a.mu.Lock()
	a.ctxs = append(a.ctxs, ctx)
	a.mu.Unlock()
	return fn(ctx)
}

func (a *attemptContexts) last() context.Context {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ctxs[len(a.ctxs)-1]
}

func TestTransportBodyOutlivesPerAttemptTimeout(t *testing.T) {
	const chunk, chunks = 64 << 10, 32
	release := make(chan struct{})
	s := serve(t, func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		w.Write(bytes.Repeat([]byte("a"), chunk))
		rc.Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		// Stream the rest slowly: the whole read takes longer than the
		// per-attempt timeout.
		for range chunks - 1 {
			time.Sleep(5 * time.Millisecond)
			w.Write(bytes.Repeat([]byte("b"), chunk))
			rc.Flush()
		}
	})
	attempts := &attemptContexts{}
	tr := newTransport(t, resiliencehttp.Config{
		Policy: resilience.Chain(quickRetry(2), timeout.New(100*time.Millisecond), attempts),
	})
	req, err := http.NewRequest(http.MethodGet, s.URL(), nil)
	require.NoError(t, err)

	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	<-attempts.last().Done() // the attempt's context has ended
	close(release)
	start := time.Now()
	body, err := io.ReadAll(resp.Body)

	require.NoError(t, err)
	assert.Len(t, body, chunk*chunks)
	assert.Greater(t, time.Since(start), 100*time.Millisecond, "precondition: the read outlasted the per-attempt timeout")
	assert.Equal(t, 1, s.requests())
}

func TestTransportBodyEndsWhenCallerCancels(t *testing.T) {
	s := serve(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first")
		http.NewResponseController(w).Flush()
		<-r.Context().Done()
	})
	tr := newTransport(t, resiliencehttp.Config{Policy: quickRetry(2)})
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL(), nil)
	require.NoError(t, err)

	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	buf := make([]byte, 5)
	_, err = io.ReadFull(resp.Body, buf)
	require.NoError(t, err)
	cancel()
	_, err = io.ReadAll(resp.Body)

	assert.ErrorIs(t, err, context.Canceled)
}

func TestTransportReturnsWholeBodyOfExhaustedResponseLongerThanDrainLimit(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 10_000)
	s := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write(big)
	})
	tr := newTransport(t, resiliencehttp.Config{Policy: quickRetry(2), DrainLimit: 100})

	resp, body := get(t, tr, s.URL())

	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, string(big), body)
	assert.Equal(t, 2, s.requests())
}
