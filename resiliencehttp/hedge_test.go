package resiliencehttp_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/hedge"
	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/resiliencehttp"
)

// TestHedgeWinnerBodyOutlivesTheRace: a GET whose first attempt stalls is
// hedged; the hedge's 2 MiB body is read whole after RoundTrip returned
// and the stalled attempt was cancelled.
func TestHedgeWinnerBodyOutlivesTheRace(t *testing.T) {
	big := make([]byte, 2<<20)
	rand.Read(big)
	stalledEnded := make(chan struct{})
	s := serve(t,
		func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done(); close(stalledEnded) },
		func(w http.ResponseWriter, _ *http.Request) { w.Write(big) },
	)
	tr := newTransport(t, resiliencehttp.Config{Policy: hedge.New(hedge.Config{Delay: 20 * time.Millisecond})})

	req, err := http.NewRequest(http.MethodGet, s.URL(), nil)
	require.NoError(t, err)
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	<-stalledEnded // the loser was cancelled: the race is over
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err, "the winner's body must outlive the race")
	assert.True(t, bytes.Equal(big, got))
	assert.Equal(t, 2, s.requests())
}

// TestHedgeOnlySafeMethods: GET, HEAD and OPTIONS are hedged; PUT,
// DELETE, POST and a keyed POST are sent once however slow.
func TestHedgeOnlySafeMethods(t *testing.T) {
	for method, want := range map[string]int{
		http.MethodGet: 2, http.MethodHead: 2, http.MethodOptions: 2,
		http.MethodPut: 1, http.MethodDelete: 1, http.MethodPost: 1, "keyed POST": 1,
	} {
		t.Run(method, func(t *testing.T) {
			s := serve(t, func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-time.After(300 * time.Millisecond):
				case <-r.Context().Done():
				}
				w.WriteHeader(http.StatusNoContent)
			})
			tr := newTransport(t, resiliencehttp.Config{Policy: hedge.New(hedge.Config{Delay: 5 * time.Millisecond})})
			ctx, m := t.Context(), method
			if method == "keyed POST" {
				ctx, m = idempotency.WithKey(ctx, "order-42"), http.MethodPost
			}
			req, err := http.NewRequestWithContext(ctx, m, s.URL(), strings.NewReader("x"))
			require.NoError(t, err)
			resp, err := tr.RoundTrip(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, http.StatusNoContent, resp.StatusCode)
			assert.Equal(t, want, s.requests())
		})
	}
}

// TestHedgeAfterRetryableStatusAtOnce: a 503 starts the hedge without
// waiting for the delay, and the caller gets the hedge's 200.
func TestHedgeAfterRetryableStatusAtOnce(t *testing.T) {
	s := serve(t, status(http.StatusServiceUnavailable), ok("hello"))
	tr := newTransport(t, resiliencehttp.Config{Policy: hedge.New(hedge.Config{Delay: time.Hour})})
	resp, body := get(t, tr, s.URL())
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "hello", body)
	assert.Equal(t, 2, s.requests())
}

// race makes both attempts of a hedged GET get their response before
// either reports: the first to get one returns it at once and wins; the
// other waits until the winner's attempt has claimed the win and only then
// returns its own, which loses. The winner's report is held until the
// loser's attempt has returned, so the loser's response is handled before
// the hedge cancels it.
type race struct {
	base      http.RoundTripper
	arrived   atomic.Int32
	claimed   chan struct{}
	loserOut  chan struct{}
	bodies    []*countingBody
	mu        sync.Mutex
	successes atomic.Int32
}

func newRace(base http.RoundTripper) *race {
	return &race{base: base, claimed: make(chan struct{}), loserOut: make(chan struct{})}
}

func (r *race) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	cb := &countingBody{rc: resp.Body}
	resp.Body = cb
	r.mu.Lock()
	r.bodies = append(r.bodies, cb)
	r.mu.Unlock()
	if r.arrived.Add(1) == 2 {
		<-r.claimed
	}
	return resp, nil
}

// Do is the policy inside the hedge: it sees each attempt return.
func (r *race) Do(ctx context.Context, fn resilience.Func) error {
	err := fn(ctx)
	if err == nil {
		if r.successes.Add(1) == 1 {
			close(r.claimed)
			<-r.loserOut
		} else {
			close(r.loserOut)
		}
	}
	return err
}

type countingBody struct {
	rc     io.ReadCloser
	read   atomic.Int64
	closed atomic.Bool
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	b.read.Add(int64(n))
	return n, err
}

func (b *countingBody) Close() error { b.closed.Store(true); return b.rc.Close() }

// TestHedgeLoserBodyDrainedAndConnectionReused: when both attempts of a
// hedged GET get a response, the loser's body is read to its end and
// closed, so its connection goes back to the pool: three such races open
// two connections in all.
func TestHedgeLoserBodyDrainedAndConnectionReused(t *testing.T) {
	body := strings.Repeat("b", 10_000)
	s := serve(t, ok(body))
	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	for i := range 3 {
		r := newRace(base)
		tr := resiliencehttp.New(resiliencehttp.Config{Base: r, Policy: resilience.Chain(hedge.New(hedge.Config{}), r)})
		resp, got := get(t, tr, s.URL())
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, body, got)
		require.Len(t, r.bodies, 2, "race %d", i)
		for _, b := range r.bodies {
			assert.True(t, b.closed.Load())
			assert.EqualValues(t, len(body), b.read.Load(), "race %d: each body read to its end", i)
		}
	}
	assert.Equal(t, 6, s.requests())
	assert.EqualValues(t, 2, s.conns.Load(), "the losers' connections were reused")
}

// TestHedgeConnectionsReusedWithoutHedges: hedged GETs that need no
// hedge reuse one connection.
func TestHedgeConnectionsReusedWithoutHedges(t *testing.T) {
	s := serve(t, ok("hi"))
	tr := newTransport(t, resiliencehttp.Config{Policy: hedge.New(hedge.Config{Delay: time.Second})})
	for range 20 {
		_, body := get(t, tr, s.URL())
		assert.Equal(t, "hi", body)
	}
	assert.EqualValues(t, 1, s.conns.Load())
}
