package main

// This file is the lesson: a client that charges every order exactly once
// over a network that drops, stalls, loses and corrupts, and still shows a
// recent exchange rate while its source is down. Besides what it imports,
// it uses only the program's charge, receipt and quote types (server.go),
// and send, answer and body (client.go), which make one request and read
// its answer.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
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

// The names of the client's retry policies, which its events carry.
const (
	chargesPolicy = "charges" // retries what the network breaks
	recheckPolicy = "recheck" // asks again when an answer fails validation
)

// resilientClient sends each order through the resiliencehttp Transport:
// a total timeout, retries with exponential backoff and full jitter, a
// circuit breaker and a per-attempt timeout, in the recommended order — and
// one idempotency key per order, the same on every attempt.
type resilientClient struct {
	http    *http.Client // the charges
	reads   *http.Client // the rate: fail fast, then the last known good value
	url     string
	recheck resilience.Policy
	rates   *fallback.Cache[string, quote]
}

type resilientConfig struct {
	seed           uint64              // seeds the jitter: same seed, same delays
	total          time.Duration       // per order, retries included
	attemptTimeout time.Duration       // each attempt's, to the response headers
	openFor        time.Duration       // how long the breaker stays open at first
	maxStale       time.Duration       // oldest rate served in place of a failure
	base           http.RoundTripper   // sends each attempt; nil means http.DefaultTransport
	observer       resilience.Observer // receives the policies' events; nil means none

	// onBreaker is given each host's breaker, for the demo's -dash to show
	// it; nil means nothing.
	onBreaker func(host string, b *breaker.Breaker)
}

func newResilientClient(url string, c resilientConfig) *resilientClient {
	charges := resiliencehttp.New(resiliencehttp.Config{
		Base: c.base,
		// Each host gets its own chain, and so its own breaker.
		PerHost: func(host string) resilience.Policy {
			b := breaker.New(breaker.Config{
				Name:        host,
				WindowSize:  20,
				MinCalls:    10,
				FailureRate: 0.6,
				OpenFor:     c.openFor,
				MaxOpenFor:  4 * c.openFor,
				// A 409 means "your first request is still running":
				// not a sign that the server is failing.
				IsFailure: func(err error) bool { return !inProgress(err) },
				Observer:  c.observer,
			})
			if c.onBreaker != nil {
				c.onBreaker(host, b) // the demo's -dash shows it live
			}
			return resilience.Chain(
				timeout.New(c.total),
				retry.New(retry.Config{
					Name:        chargesPolicy,
					MaxAttempts: -1, // bounded by the total timeout
					Backoff:     backoff.Exponential(50*time.Millisecond, 2, time.Second).WithJitter(backoff.Full).WithSeed(c.seed),
					MaxDelay:    2 * time.Second,
					Observer:    c.observer,
				}),
				b,
				timeout.New(c.attemptTimeout),
			)
		},
		// The default RetryResponse retries a keyed request's 409 too: the
		// first attempt is still being processed.
		ErrorOnExhausted: true,
	})
	reads := resiliencehttp.New(resiliencehttp.Config{
		Base: c.base,
		Policy: resilience.Chain(
			retry.New(retry.Config{MaxAttempts: 2, Backoff: backoff.Constant(20 * time.Millisecond)}),
			timeout.New(c.attemptTimeout),
		),
		ErrorOnExhausted: true,
	})
	return &resilientClient{
		http:  &http.Client{Transport: charges},
		reads: &http.Client{Transport: reads},
		url:   url,
		recheck: retry.New(retry.Config{
			Name:        recheckPolicy,
			MaxAttempts: 5,
			Backoff:     backoff.Constant(10 * time.Millisecond),
			RetryIf:     func(err error) bool { return errors.Is(err, resilience.ErrInvalid) },
			Observer:    c.observer,
		}),
		rates: fallback.NewCache[string, quote](fallback.CacheConfig{MaxKeys: 10, MaxStale: c.maxStale}),
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
func (c *resilientClient) rate(ctx context.Context) (fallback.Result[quote], error) {
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
	return c.rates.Do(ctx, "EUR/USD", get)
}

func (c *resilientClient) close() {
	c.http.CloseIdleConnections()
	c.reads.CloseIdleConnections()
}
