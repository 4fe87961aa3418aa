package idempotency_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
)

// A thousand clients send the same charge at once over loopback HTTP: the
// handler runs once, and every client gets either the first response or 409.
func TestMiddlewareRunsTheHandlerOnceUnderLoad(t *testing.T) {
	const clients = 1000
	var runs atomic.Int32
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs.Add(1)
		_, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"charge":"ch_1"}`)
	})
	srv := httptest.NewServer(idempotency.Middleware(idempotency.NewMemoryStore(idempotency.MemoryConfig{}), idempotency.MiddlewareConfig{})(handler))
	defer srv.Close()
	transport := &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}

	var (
		wg        sync.WaitGroup
		start     = make(chan struct{})
		created   atomic.Int32
		conflicts atomic.Int32
	)
	for range clients {
		wg.Go(func() {
			<-start
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/charges", strings.NewReader(`{"amount":50}`))
			if !assert.NoError(t, err) {
				return
			}
			req.Header.Set("Idempotency-Key", "charge-1")
			resp, err := client.Do(req)
			if !assert.NoError(t, err) {
				return
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			assert.NoError(t, err)
			switch resp.StatusCode {
			case http.StatusCreated:
				created.Add(1)
				assert.Equal(t, `{"charge":"ch_1"}`, string(body))
			case http.StatusConflict:
				conflicts.Add(1)
				assert.NotEmpty(t, resp.Header.Get("Retry-After"))
			default:
				t.Errorf("unexpected status %d: %s", resp.StatusCode, body)
			}
		})
	}
	close(start)
	wg.Wait()
	require.Equal(t, int32(1), runs.Load(), "the handler ran exactly once")
	assert.Equal(t, int32(clients), created.Load()+conflicts.Load())
	t.Logf("%d first-or-replayed responses, %d conflicts", created.Load(), conflicts.Load())
}
