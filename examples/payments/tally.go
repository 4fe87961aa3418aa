package main

import (
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/fallback"
)

// tally is what one client saw.
type tally struct {
	done      atomic.Int64 // orders finished, charged or not
	failed    atomic.Int64 // orders the client gave up on
	attempts  atomic.Int64 // HTTP requests sent
	rejected  atomic.Int64 // attempts refused by the breaker without a request
	retries   atomic.Int64 // waits before another attempt
	invalid   atomic.Int64 // answers rejected by validation
	fresh     atomic.Int64 // rate lookups answered by the server
	stale     atomic.Int64 // rate lookups answered by the last known good value
	noRate    atomic.Int64 // rate lookups that failed
	mu        sync.Mutex
	states    []string           // breaker state changes, in order
	lastState string             //
	receipts  map[string]receipt // the receipt accepted for each order
	maxAge    time.Duration      // oldest stale rate served
}

// observer counts the resilient client's events: the waits before another
// attempt of a charge and, among them, those on an open breaker; the
// answers its validation rejected; the breaker's state changes.
func (t *tally) observer() resilience.Observer {
	return resilience.ObserverFunc(func(e resilience.Event) {
		switch {
		case e.Kind == resilience.KindRetry && e.Name == chargesPolicy:
			t.retries.Add(1)
			if errors.Is(e.Err, breaker.ErrOpen) {
				t.rejected.Add(1)
			}
		case e.Kind == resilience.KindRetry && e.Name == recheckPolicy:
			t.invalid.Add(1)
		case e.Kind == resilience.KindStateChange:
			t.stateChange(e.From, e.To)
		}
	})
}

func (t *tally) accept(r receipt) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.receipts == nil {
		t.receipts = make(map[string]receipt)
	}
	t.receipts[r.OrderID] = r
}

// lookedUp counts the outcome of one rate lookup.
func (t *tally) lookedUp(res fallback.Result[quote], err error) {
	switch {
	case err != nil:
		t.noRate.Add(1)
	case res.Stale:
		t.stale.Add(1)
		t.mu.Lock()
		t.maxAge = max(t.maxAge, res.Age)
		t.mu.Unlock()
	default:
		t.fresh.Add(1)
	}
}

// accepted returns the receipts the client accepted.
func (t *tally) accepted() []receipt {
	t.mu.Lock()
	defer t.mu.Unlock()
	rs := make([]receipt, 0, len(t.receipts))
	for _, r := range t.receipts {
		rs = append(rs, r)
	}
	return rs
}

func (t *tally) stateChange(from, to string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.states) == 0 {
		t.states = append(t.states, from)
	}
	t.states = append(t.states, to)
	t.lastState = to
}

func (t *tally) breakerStates() (changes int, path []string, now string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now = t.lastState
	if now == "" {
		now = "closed"
	}
	return max(0, len(t.states)-1), append([]string(nil), t.states...), now
}

// newTransport returns a transport of its own, so that the two clients
// share no connections.
func newTransport() *http.Transport {
	return http.DefaultTransport.(*http.Transport).Clone()
}

// countingTransport counts the HTTP requests that actually leave the client.
type countingTransport struct {
	base http.RoundTripper
	n    *atomic.Int64
}

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(r)
}

func (c countingTransport) CloseIdleConnections() {
	if ci, ok := c.base.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}
