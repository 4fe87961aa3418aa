package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/idempotency"
)

// replicaUnderTest is one payments handler behind the idempotency
// middleware over a memory store, charging a ledger on loopback.
func replicaUnderTest(t *testing.T, l *ledger, store idempotency.Store, wrap ...func(http.Handler) http.Handler) *httptest.Server {
	t.Helper()
	ls := httptest.NewServer(l.handler())
	t.Cleanup(ls.Close)
	p := &payments{name: "a", ledger: ls.URL, client: ls.Client(), events: map[resilience.Kind]int{}}
	t.Cleanup(p.client.CloseIdleConnections)
	mw := idempotency.Middleware(store, idempotency.MiddlewareConfig{CanonicalJSON: true, Observer: resilience.ObserverFunc(p.observe)})
	var h http.Handler = http.HandlerFunc(p.charge)
	for _, w := range wrap {
		h = w(h)
	}
	srv := httptest.NewServer(mw(h))
	t.Cleanup(srv.Close)
	return srv
}

func postOrder(t *testing.T, url, key string, o order) (int, receipt, http.Header) {
	t.Helper()
	b, _ := json.Marshal(o)
	req, err := http.NewRequest(http.MethodPost, url+"/charges", bytes.NewReader(b))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", strconv.Quote(key))
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var r receipt
	if resp.StatusCode == http.StatusCreated {
		require.NoError(t, json.Unmarshal(body, &r))
	}
	return resp.StatusCode, r, resp.Header
}

func TestReplicaChargesAKeyedOrderOnceUnderItsFenceAndReplaysIt(t *testing.T) {
	l := newLedger()
	srv := replicaUnderTest(t, l, idempotency.NewMemoryStore(idempotency.MemoryConfig{}))
	defer http.DefaultClient.CloseIdleConnections()
	o := order{OrderID: "o1", AmountCents: orderAmount}

	status, first, _ := postOrder(t, srv.URL, "k1", o)
	require.Equal(t, http.StatusCreated, status)
	assert.Equal(t, "o1", first.OrderID)
	assert.Positive(t, first.Fence, "the handler read its fence from the request context")
	assert.True(t, l.charged("o1", first.ChargeID))

	status, again, h := postOrder(t, srv.URL, "k1", o)
	require.Equal(t, http.StatusCreated, status)
	assert.Equal(t, first, again)
	assert.Equal(t, "true", h.Get("Idempotent-Replayed"))
	assert.Equal(t, 1, l.times("o1"))
}

func TestReplicaChargesAnOrderWithoutKeyEveryTime(t *testing.T) {
	l := newLedger()
	srv := replicaUnderTest(t, l, idempotency.NewMemoryStore(idempotency.MemoryConfig{}))
	defer http.DefaultClient.CloseIdleConnections()
	o := order{OrderID: "n1", AmountCents: orderAmount}
	for range 2 {
		status, r, _ := postOrder(t, srv.URL, "", o)
		require.Equal(t, http.StatusCreated, status)
		assert.Zero(t, r.Fence)
	}
	assert.Equal(t, 2, l.times("n1"), "without a key nothing stops the second charge")
}

func TestReplicaAnswers409AndChargesNothingWhenItsFenceIsStale(t *testing.T) {
	l := newLedger()
	// While the handler runs, another owner takes the key over with a
	// higher fence and tells the ledger so.
	takenOver := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			f, ok := idempotency.FenceFrom(r.Context())
			assert.True(t, ok, "the handler runs with a fence")
			l.begin(write{Key: f.Key, Fence: f.Fence + 1, Order: "other"})
			next.ServeHTTP(w, r)
		})
	}
	srv := replicaUnderTest(t, l, idempotency.NewMemoryStore(idempotency.MemoryConfig{}), takenOver)
	defer http.DefaultClient.CloseIdleConnections()

	status, _, _ := postOrder(t, srv.URL, "k3", order{OrderID: "o3", AmountCents: orderAmount})
	assert.Equal(t, http.StatusConflict, status)
	assert.Equal(t, 0, l.times("o3"))
	assert.Equal(t, 1, l.staleRefused())
}

func TestReplicaAnswers500AfterChargingAndTheRetryReplaysIt(t *testing.T) {
	l := newLedger()
	srv := replicaUnderTest(t, l, idempotency.NewMemoryStore(idempotency.MemoryConfig{}))
	defer http.DefaultClient.CloseIdleConnections()
	o := order{OrderID: "o5", AmountCents: orderAmount, FailAfterCharge: true}
	for i := range 2 {
		b, _ := json.Marshal(o)
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/charges", bytes.NewReader(b))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", `"k5"`)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		var r receipt
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&r))
		resp.Body.Close()
		assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
		assert.True(t, l.charged("o5", r.ChargeID), "the 500 carries the charge's receipt")
		assert.Equal(t, i == 1, resp.Header.Get("Idempotent-Replayed") == "true")
	}
	assert.Equal(t, 1, l.times("o5"), "the 500 was recorded: the retry did not charge again")
}
