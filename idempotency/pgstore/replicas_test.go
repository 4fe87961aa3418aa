package pgstore_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/pgstore"
)

func TestTwoReplicasSharingTheStoreRunTheHandlerOnce(t *testing.T) {
	const requests = 500
	var runs atomic.Int32
	charge := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := runs.Add(1)
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, "charge %d", n)
	})
	var replicas [2]*httptest.Server
	for i := range replicas {
		// Each replica has its own connection pool, as separate processes would.
		store := pgstore.New(newPool(t), pgstore.Config{})
		replicas[i] = httptest.NewServer(idempotency.Middleware(store, idempotency.MiddlewareConfig{})(charge))
		t.Cleanup(replicas[i].Close)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: requests}}
	t.Cleanup(client.CloseIdleConnections)

	key := idempotency.NewKey()
	var created, replayed, inProgress atomic.Int32
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range requests {
		wg.Go(func() {
			<-start
			req, _ := http.NewRequest(http.MethodPost, replicas[i%2].URL+"/charges", strings.NewReader(`{"amount":50}`))
			req.Header.Set("Idempotency-Key", key)
			resp, err := client.Do(req)
			if !assert.NoError(t, err) {
				return
			}
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			switch {
			case resp.StatusCode == http.StatusConflict:
				inProgress.Add(1)
			case resp.StatusCode != http.StatusCreated:
				t.Errorf("status %d: %s", resp.StatusCode, body)
			case resp.Header.Get("Idempotent-Replayed") == "true":
				replayed.Add(1)
				assert.Equal(t, "charge 1", string(body))
			default:
				created.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	assert.Equal(t, int32(1), runs.Load(), "the handler ran exactly once")
	assert.Equal(t, int32(1), created.Load())
	assert.Equal(t, int32(requests), created.Load()+replayed.Load()+inProgress.Load())
	t.Logf("%d created, %d replayed, %d in progress (409)", created.Load(), replayed.Load(), inProgress.Load())
}
