package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/magicmagnets/resilience/fallback"
)

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
	return &naiveClient{
		http:     &http.Client{Timeout: attemptTimeout, Transport: countingTransport{newTransport(), &t.attempts}},
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
func (c *naiveClient) rate(ctx context.Context) (fallback.Result[quote], error) {
	a, err := send(ctx, c.http, http.MethodGet, c.url+"/rates/EUR-USD", nil)
	if err != nil {
		return fallback.Result[quote]{}, err
	}
	if a.status != http.StatusOK {
		return fallback.Result[quote]{}, fmt.Errorf("status %d", a.status)
	}
	var q quote
	_ = json.Unmarshal(a.body, &q) // it trusts what it gets
	return fallback.Result[quote]{Value: q}, nil
}

func (c *naiveClient) close() { c.http.CloseIdleConnections() }
