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
	"github.com/magicmagnets/resilience/fallback"
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

func (t *tally) accept(r receipt) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.receipts == nil {
		t.receipts = make(map[string]receipt)
	}
	t.receipts[r.OrderID] = r
}

func (t *tally) servedStale(age time.Duration) {
	t.stale.Add(1)
	t.mu.Lock()
	t.maxAge = max(t.maxAge, age)
	t.mu.Unlock()
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

// client charges orders and looks up the exchange rate.
type client interface {
	// charge returns the receipt the client accepted for o.
	charge(ctx context.Context, o charge) (receipt, error)
	// rate looks up EUR/USD, as shown next to each order.
	rate(ctx context.Context)
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

func (c *naiveClient) charge(ctx context.Context, o charge) (receipt, error) {
	var err error
	for attempt := 1; attempt <= c.attempts; attempt++ {
		if attempt > 1 {
			c.t.retries.Add(1)
			if werr := sleep(ctx, c.pause); werr != nil {
				return receipt{}, werr
			}
		}
		var a answer
		if a, err = send(ctx, c.http, http.MethodPost, c.url+"/charges", body(o)); err != nil {
			continue
		}
		if a.status != http.StatusCreated {
			err = fmt.Errorf("status %d", a.status)
			continue
		}
		// It trusts any receipt that decodes.
		var r receipt
		if err = json.Unmarshal(a.body, &r); err == nil {
			return r, nil
		}
	}
	return receipt{}, err
}

// rate looks the rate up once, with no fallback.
func (c *naiveClient) rate(ctx context.Context) {
	a, err := send(ctx, c.http, http.MethodGet, c.url+"/rates/EUR-USD", nil)
	if err != nil || a.status != http.StatusOK {
		c.t.noRate.Add(1)
		return
	}
	c.t.fresh.Add(1)
}

func (c *naiveClient) close() { c.http.CloseIdleConnections() }

// resilientClient sends each order through the resiliencehttp Transport:
// a total timeout, retries with exponential backoff and full jitter, a
// circuit breaker and a per-attempt timeout, in the recommended order — and
// one idempotency key per order, the same on every attempt.
type resilientClient struct {
	http    *http.Client
	url     string
	t       *tally
	recheck resilience.Policy // asks again when an answer fails validation
	rates   *fallback.Cache[string, quote]
	reads   *http.Client // the read path: fail fast, serve the last known good rate
}

type resilientConfig struct {
	seed           uint64
	total          time.Duration // per order, retries included
	attemptTimeout time.Duration
	openFor        time.Duration
	maxStale       time.Duration // oldest rate served in place of a failure
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
		// The default RetryResponse retries a keyed request's 409 too: the
		// first attempt is still being processed.
		ErrorOnExhausted: true,
	})
	reads := resiliencehttp.New(resiliencehttp.Config{
		Base: countingTransport{base, &t.attempts},
		Policy: resilience.Chain(
			retry.New(retry.Config{MaxAttempts: 2, Backoff: backoff.Constant(20 * time.Millisecond)}),
			timeout.New(c.attemptTimeout),
		),
		ErrorOnExhausted: true,
	})
	return &resilientClient{
		http: &http.Client{Transport: tr},
		url:  url,
		t:    t,
		recheck: retry.New(retry.Config{
			MaxAttempts: 5,
			Backoff:     backoff.Constant(10 * time.Millisecond),
			RetryIf:     func(err error) bool { return errors.Is(err, resilience.ErrInvalid) },
			Observer: resilience.ObserverFunc(func(e resilience.Event) {
				if e.Kind == resilience.KindRetry {
					t.invalid.Add(1)
				}
			}),
		}),
		rates: fallback.NewCache[string, quote](fallback.CacheConfig{MaxKeys: 10, MaxStale: c.maxStale}),
		reads: &http.Client{Transport: reads},
	}
}

func inProgress(err error) bool {
	var se *resiliencehttp.StatusError
	return errors.As(err, &se) && se.StatusCode == http.StatusConflict
}

// charge sends o with its own idempotency key, the same on every attempt:
// the Transport retries what the network breaks, and recheck asks again —
// with the same key, so the server replays its record — when the answer
// fails validation.
func (c *resilientClient) charge(ctx context.Context, o charge) (receipt, error) {
	ctx = idempotency.WithKey(ctx, o.key)
	post := func(ctx context.Context) (answer, error) {
		return send(ctx, c.http, http.MethodPost, c.url+"/charges", body(o))
	}
	a, err := resilience.DoValue(ctx, c.recheck, resilience.Validate(post, validReceipt(o)))
	if err != nil {
		return receipt{}, err
	}
	var r receipt
	_ = json.Unmarshal(a.body, &r) // validReceipt decoded it already
	return r, nil
}

// validReceipt checks an answer to charge o: a 201 whose body matches its
// Content-Digest and is a receipt for o's order and amount.
func validReceipt(o charge) func(answer) error {
	return func(a answer) error {
		if a.status != http.StatusCreated {
			return fmt.Errorf("status %d", a.status)
		}
		if err := resiliencehttp.VerifyDigest(a.header, a.body); err != nil {
			return err
		}
		var r receipt
		if err := json.Unmarshal(a.body, &r); err != nil {
			return fmt.Errorf("receipt: %w", err)
		}
		if r.OrderID != o.OrderID || r.AmountCents != o.AmountCents || r.ChargeID == "" {
			return fmt.Errorf("receipt for %s of %d cents, want %s of %d", r.OrderID, r.AmountCents, o.OrderID, o.AmountCents)
		}
		return nil
	}
}

// rate looks the rate up on the read path; while the source is down the
// cache answers with the last rate it saw, marked stale, as long as that is
// younger than maxStale.
func (c *resilientClient) rate(ctx context.Context) {
	get := func(ctx context.Context) (quote, error) {
		a, err := send(ctx, c.reads, http.MethodGet, c.url+"/rates/EUR-USD", nil)
		if err != nil {
			return quote{}, err
		}
		var q quote
		if a.status != http.StatusOK || resiliencehttp.VerifyDigest(a.header, a.body) != nil || json.Unmarshal(a.body, &q) != nil || q.Rate <= 0 {
			return quote{}, fmt.Errorf("bad rate answer: status %d", a.status)
		}
		return q, nil
	}
	res, err := c.rates.Do(ctx, resilience.Chain(), "EUR/USD", get)
	switch {
	case err != nil:
		c.t.noRate.Add(1)
	case res.Stale:
		c.t.servedStale(res.Age)
	default:
		c.t.fresh.Add(1)
	}
}

func (c *resilientClient) close() { c.http.CloseIdleConnections() }

// answer is a response read in full.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// send makes one request and reads its answer.
func send(ctx context.Context, c *http.Client, method, url string, payload []byte) (answer, error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return answer{}, err
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

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
