package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/resiliencehttp"
	"github.com/magicmagnets/resilience/retry"
	"github.com/magicmagnets/resilience/timeout"
)

// virtualHost is the host the clients address; the balancer sends each
// attempt to one of the replicas' proxies instead.
const virtualHost = "payments.chaos"

// attemptStats counts what one order's attempts met. The balancer finds it
// in each attempt's context.
type attemptStats struct {
	sent      atomic.Int64 // HTTP requests sent
	conflicts atomic.Int64 // answers with status 409
}

type statsKey struct{}

// balancer sends each attempt to the next replica in turn, so a retry
// usually reaches the other replica than the attempt before it.
type balancer struct {
	base    *http.Transport
	targets []string // host:port of each replica's proxy
	next    atomic.Uint64
}

func newBalancer(targets []string) *balancer {
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = 64
	return &balancer{base: base, targets: targets}
}

// RoundTrip implements http.RoundTripper.
func (b *balancer) RoundTrip(r *http.Request) (*http.Response, error) {
	target := b.targets[int(b.next.Add(1)%uint64(len(b.targets)))]
	out := r.Clone(r.Context())
	out.URL.Host, out.Host = target, target
	st, _ := r.Context().Value(statsKey{}).(*attemptStats)
	if st != nil {
		st.sent.Add(1)
	}
	resp, err := b.base.RoundTrip(out)
	if err == nil && resp.StatusCode == http.StatusConflict && st != nil {
		st.conflicts.Add(1)
	}
	return resp, err
}

// CloseIdleConnections closes the balancer's idle connections.
func (b *balancer) CloseIdleConnections() { b.base.CloseIdleConnections() }

// outcome is what a client made of one order.
type outcome struct {
	status  int // the last answer's status; 0 when there was none
	receipt receipt
	err     error
	elapsed time.Duration
	sent    int64 // HTTP requests sent
	seen409 int64 // 409 answers among them
	// replayed: the answer carried Idempotent-Replayed: true.
	replayed bool
	// leaseLost: the answer of a held charge whose owner was told, before
	// its late write, that its lease was lost (the takeover phase).
	leaseLost bool
}

// client charges one order.
type client interface {
	charge(ctx context.Context, o *orderRec) outcome
	close()
}

// resilientClient is the README's recommended client: the resiliencehttp
// Transport under Chain(total timeout, retry, breaker, per-attempt
// timeout) per host, reading each answer within its attempt, and one
// idempotency key per order, the same on every attempt.
type resilientClient struct{ http *http.Client }

func newResilientClient(targets []string) *resilientClient {
	tr := resiliencehttp.New(resiliencehttp.Config{
		Base: newBalancer(targets),
		PerHost: func(host string) resilience.Policy {
			return resilience.Chain(
				timeout.New(10*time.Second),
				retry.New(retry.Config{MaxAttempts: 4}),
				breaker.New(breaker.Config{Name: host}),
				timeout.New(2*time.Second),
			)
		},
		BufferBody: 1 << 20,
	})
	return &resilientClient{http: &http.Client{Transport: tr}}
}

func (c *resilientClient) charge(ctx context.Context, o *orderRec) outcome {
	return send(idempotency.WithKey(ctx, o.key), c.http, o)
}

func (c *resilientClient) close() { c.http.CloseIdleConnections() }

// naiveClient is the baseline many services ship, as in examples/payments:
// a plain http.Client with a timeout per attempt, and a loop that tries
// again on any failure — with no idempotency key.
type naiveClient struct {
	http     *http.Client
	attempts int
	pause    time.Duration
}

func newNaiveClient(targets []string) *naiveClient {
	return &naiveClient{
		http:     &http.Client{Timeout: 2 * time.Second, Transport: newBalancer(targets)},
		attempts: 4,
		pause:    100 * time.Millisecond,
	}
}

func (c *naiveClient) charge(ctx context.Context, o *orderRec) outcome {
	var out outcome
	var sent, seen409 int64
	start := time.Now()
	for attempt := 1; attempt <= c.attempts; attempt++ {
		if attempt > 1 && pause(ctx, c.pause) != nil {
			break
		}
		out = send(ctx, c.http, o)
		sent, seen409 = sent+out.sent, seen409+out.seen409
		if out.err == nil && out.status == http.StatusCreated {
			break
		}
	}
	out.sent, out.seen409, out.elapsed = sent, seen409, time.Since(start)
	return out
}

func (c *naiveClient) close() { c.http.CloseIdleConnections() }

// send posts o once through hc (whose Transport may retry) and reads the
// answer in full.
func send(ctx context.Context, hc *http.Client, o *orderRec) (out outcome) {
	st := &attemptStats{}
	ctx = context.WithValue(ctx, statsKey{}, st)
	start := time.Now()
	defer func() {
		out.elapsed = time.Since(start)
		out.sent, out.seen409 = st.sent.Load(), st.conflicts.Load()
	}()
	b, _ := json.Marshal(o.body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+virtualHost+"/charges", bytes.NewReader(b))
	if err != nil {
		out.err = err
		return out
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		out.err = err
		return out
	}
	defer resp.Body.Close()
	out.status = resp.StatusCode
	out.replayed = resp.Header.Get("Idempotent-Replayed") == "true"
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		out.err = err
		return out
	}
	if resp.StatusCode == http.StatusCreated || o.body.FailAfterCharge && resp.StatusCode == http.StatusInternalServerError {
		out.err = json.Unmarshal(body, &out.receipt)
	}
	return out
}
