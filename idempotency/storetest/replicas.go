package storetest

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
)

// replicaRequests is how many identical requests RunReplicas sends.
const replicaRequests = 500

// RunReplicas proves that replicas of a service sharing a store run a
// handler once per key: two HTTP servers, each with [idempotency.Middleware]
// over its own store value from newStore, receive 500 identical concurrent
// requests carrying one Idempotency-Key, alternately. The handler must run
// exactly once; every other request gets its replay (201 with
// Idempotent-Replayed and the first response's body) or a 409 while the
// first is in progress, and nothing else.
//
// newStore is called once per replica, as separate processes would each
// open their own connection: the stores it returns must share their records
// (one server and one key prefix, or one memory store). The key is fresh for
// every run. RunReplicas uses real time and a loopback network, so it does
// not run inside a synctest bubble.
func RunReplicas(t *testing.T, newStore NewStore) {
	var runs atomic.Int32
	charge := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := runs.Add(1)
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, "charge %d", n)
	})
	var replicas [2]*httptest.Server
	for i := range replicas {
		mw := idempotency.Middleware(newStore(t), idempotency.MiddlewareConfig{})
		replicas[i] = httptest.NewServer(mw(charge))
		t.Cleanup(replicas[i].Close)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: replicaRequests}}
	t.Cleanup(client.CloseIdleConnections)
	key := `"order-` + idempotency.NewKey() + `"` // a structured-field string, as the draft has it

	var created, replayed, inProgress atomic.Int32
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range replicaRequests {
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
	assert.Equal(t, int32(replicaRequests), created.Load()+replayed.Load()+inProgress.Load())
	t.Logf("%d created, %d replayed, %d in progress (409)", created.Load(), replayed.Load(), inProgress.Load())
}
