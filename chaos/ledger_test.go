package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLedgerCountsChargesPerOrder(t *testing.T) {
	l := newLedger()
	id1, err := l.apply("k1", 1, "o1")
	require.NoError(t, err)
	id2, err := l.apply("k1", 1, "o1")
	require.NoError(t, err)
	assert.NotEqual(t, id1, id2)
	assert.Equal(t, 2, l.times("o1"))
	assert.Equal(t, 0, l.times("o2"))
	assert.True(t, l.charged("o1", id1))
	assert.True(t, l.charged("o1", id2))
	assert.False(t, l.charged("o2", id1))
}

func TestLedgerRefusesALowerFenceAndChargesNothing(t *testing.T) {
	l := newLedger()
	_, err := l.apply("k", 2, "o")
	require.NoError(t, err)
	_, err = l.apply("k", 1, "o")
	var stale *errStale
	require.ErrorAs(t, err, &stale)
	assert.Equal(t, int64(1), stale.fence)
	assert.Equal(t, int64(2), stale.seen)
	assert.Equal(t, 1, l.times("o"), "a refused write charges nothing")
	assert.Equal(t, []int64{1}, l.refusals("k"))
	assert.Equal(t, 1, l.staleRefused())

	_, err = l.apply("k", 3, "o")
	require.NoError(t, err, "a higher fence is accepted")
	assert.Equal(t, int64(3), l.fence("k"))
	_, err = l.apply("other", 1, "o2")
	assert.NoError(t, err, "fences are per key")
}

func TestLedgerNeverRefusesAWriteWithoutFence(t *testing.T) {
	l := newLedger()
	_, err := l.apply("k", 5, "o")
	require.NoError(t, err)
	_, err = l.apply("k", 0, "o")
	assert.NoError(t, err)
	assert.Equal(t, 2, l.times("o"))
	assert.Equal(t, int64(5), l.fence("k"))
}

func TestLedgerBeginRaisesTheFenceSoAnOlderWriteIsRefused(t *testing.T) {
	l := newLedger()
	l.begin(write{Key: "k", Fence: 4, Order: "o"})
	_, err := l.apply("k", 3, "o")
	assert.Error(t, err)
	w, ok := l.waitBegun(nil, "o")
	require.True(t, ok)
	assert.Equal(t, write{Key: "k", Fence: 4, Order: "o"}, w)
}

func TestLedgerWaitAboveReturnsOnceAHigherFenceIsSeen(t *testing.T) {
	l := newLedger()
	l.begin(write{Key: "k", Fence: 1, Order: "o"})
	got := make(chan bool, 1)
	started := make(chan struct{})
	go func() {
		close(started)
		got <- l.waitAbove(nil, "k", 1)
	}()
	<-started
	_, err := l.apply("k", 2, "o")
	require.NoError(t, err)
	assert.True(t, <-got)
}

func TestLedgerWaitStopsWhenDoneCloses(t *testing.T) {
	l := newLedger()
	done := make(chan struct{})
	got := make(chan bool, 1)
	go func() { got <- l.waitAbove(done, "k", 1) }()
	close(done)
	assert.False(t, <-got)
	_, ok := l.waitBegun(done, "o")
	assert.False(t, ok)
}

func TestLedgerIsSafeForConcurrentUse(t *testing.T) {
	l := newLedger()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				_, _ = l.apply("k", int64(i+1), "o")
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 800, l.times("o")+l.staleRefused())
	assert.Equal(t, int64(8), l.fence("k"))
}

func TestLedgerHandlerAnswersAppliedAndStaleWrites(t *testing.T) {
	l := newLedger()
	srv := httptest.NewServer(l.handler())
	defer srv.Close()
	post := func(path string, w write) *http.Response {
		b, _ := json.Marshal(w)
		resp, err := http.Post(srv.URL+path, "application/json", bytes.NewReader(b))
		require.NoError(t, err)
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}

	resp := post("/apply", write{Key: "k", Fence: 2, Order: "o"})
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var a applied
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&a))
	assert.True(t, l.charged("o", a.ChargeID))

	assert.Equal(t, http.StatusConflict, post("/apply", write{Key: "k", Fence: 1, Order: "o"}).StatusCode)
	assert.Equal(t, http.StatusNoContent, post("/begin", write{Key: "j", Fence: 1, Order: "p"}).StatusCode)
	assert.Equal(t, http.StatusNoContent, post("/wait", write{Key: "k", Fence: 1, WaitMillis: 1000}).StatusCode)
	assert.Equal(t, http.StatusGatewayTimeout, post("/wait", write{Key: "k", Fence: 2, WaitMillis: 1}).StatusCode)
	assert.Equal(t, 1, l.times("o"))
}
