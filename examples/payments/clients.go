package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/resiliencehttp"
	"github.com/magicmagnets/resilience/retry"
	"github.com/magicmagnets/resilience/timeout"
)

// tally is what one client saw.
type tally struct {
	done      atomic.Int64 // orders finished, charged or not
	failed    atomic.Int64 // orders the client gave up on
	attempts  atomic.Int64 // HTTP requests sent
	rejected  atomic.Int64 // attempts refused by the breaker without a request
	retries   atomic.Int64 // waits before another attempt
	mu        sync.Mutex
	states    []string // breaker state changes, in order
	lastState string
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

// client charges one order; it returns nil once the server confirmed the
// charge.
type client interface {
	charge(ctx context.Context, o charge) error
	close()
}

func body(o charge) []byte {
	b, _ := json.Marshal(o)
	return b
}

// naiveClient is what many services do: a plain http.Client with a
// timeout, and a loop that tries again on any failure — with no idempotency
// key, so a charge whose response was lost is performed again.
type naiveClient struct {
	http     *http.Client
	url      string
	attempts int
	pause    time.Duration
	t        *tally
}

func newNaiveClient(url string, attemptTimeout time.Duration, t *tally) *naiveClient {
	base := http.DefaultTransport.(*http.Transport).Clone()
	return &naiveClient{
		http:     &http.Client{Timeout: attemptTimeout, Transport: countingTransport{base, &t.attempts}},
		url:      url,
		attempts: 4,
		pause:    100 * time.Millisecond,
		t:        t,
	}
}

func (c *naiveClient) charge(ctx context.Context, o charge) error {
	var err error
	for attempt := 1; attempt <= c.attempts; attempt++ {
		if attempt > 1 {
			c.t.retries.Add(1)
			if werr := sleep(ctx, c.pause); werr != nil {
				return werr
			}
		}
		if err = c.post(ctx, o); err == nil {
			return nil
		}
	}
	return err
}

func (c *naiveClient) post(ctx context.Context, o charge) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+"/charges", bytes.NewReader(body(o)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("status %s", resp.Status)
	}
	return nil
}

func (c *naiveClient) close() { c.http.CloseIdleConnections() }

// resilientClient sends each order through the resiliencehttp Transport:
// a total timeout, retries with exponential backoff and full jitter, a
// circuit breaker and a per-attempt timeout, in the recommended order — and
// one idempotency key per order, the same on every attempt.
type resilientClient struct {
	http *http.Client
	url  string
	t    *tally
}

type resilientConfig struct {
	seed           uint64
	total          time.Duration // per order, retries included
	attemptTimeout time.Duration
	openFor        time.Duration
}

func newResilientClient(url string, c resilientConfig, t *tally) *resilientClient {
	observe := resilience.ObserverFunc(func(e resilience.Event) {
		switch e.Kind {
		case resilience.KindRetry:
			t.retries.Add(1)
			if errors.Is(e.Err, breaker.ErrOpen) {
				t.rejected.Add(1)
			}
		case resilience.KindStateChange:
			t.stateChange(e.From, e.To)
		}
	})
	// The seeded source is shared by concurrent callers: guard it.
	jitter := &lockedRand{r: rand.New(rand.NewPCG(c.seed, 7))}
	base := http.DefaultTransport.(*http.Transport).Clone()
	tr := resiliencehttp.New(resiliencehttp.Config{
		Base: countingTransport{base, &t.attempts},
		PerHost: func(host string) resilience.Policy {
			return resilience.Chain(
				timeout.New(c.total),
				retry.New(retry.Config{
					MaxAttempts: -1, // bounded by the total timeout
					Backoff:     backoff.Exponential(50*time.Millisecond, 2, time.Second).WithJitter(backoff.Full).WithRand(jitter),
					MaxDelay:    2 * time.Second,
					Observer:    observe,
				}),
				breaker.New(breaker.Config{
					Name:        host,
					WindowSize:  20,
					MinCalls:    10,
					FailureRate: 0.6,
					OpenFor:     c.openFor,
					MaxOpenFor:  4 * c.openFor,
					// A 409 means "your first request is still running":
					// not a sign that the server is failing.
					IsFailure: func(err error) bool { return !inProgress(err) },
					Observer:  observe,
				}),
				timeout.New(c.attemptTimeout),
			)
		},
		// Retry the usual statuses, and 409: with an Idempotency-Key it
		// means the first attempt is still being processed.
		RetryResponse: func(r *http.Response) bool {
			return r.StatusCode == http.StatusConflict || resiliencehttp.RetryableStatus(r)
		},
		ErrorOnExhausted: true,
	})
	return &resilientClient{http: &http.Client{Transport: tr}, url: url, t: t}
}

func inProgress(err error) bool {
	var se *resiliencehttp.StatusError
	return errors.As(err, &se) && se.StatusCode == http.StatusConflict
}

func (c *resilientClient) charge(ctx context.Context, o charge) error {
	ctx = idempotency.WithKey(ctx, "order-"+o.OrderID)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url+"/charges", bytes.NewReader(body(o)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var r receipt
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return fmt.Errorf("reading receipt: %w", err)
	}
	if resp.StatusCode != http.StatusCreated || r.OrderID != o.OrderID {
		return fmt.Errorf("unexpected answer %s for order %s", resp.Status, o.OrderID)
	}
	return nil
}

func (c *resilientClient) close() { c.http.CloseIdleConnections() }

// lockedRand makes a seeded source safe for concurrent use.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func (l *lockedRand) Float64() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Float64()
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
