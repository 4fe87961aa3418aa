package resiliencehttp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/resiliencehttp"
	"github.com/magicmagnets/resilience/resiliencetest"
	"github.com/magicmagnets/resilience/retry"
	"github.com/magicmagnets/resilience/timeout"
)

// A server that is briefly unavailable: the client retries the GET and
// gets the answer.
func ExampleNew() {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			http.Error(w, "warming up", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "hello")
	}))
	defer srv.Close()

	tr := resiliencehttp.New(resiliencehttp.Config{
		Policy: resilience.Chain(
			retry.New(retry.Config{MaxAttempts: 3, Backoff: backoff.Constant(time.Millisecond)}),
			timeout.New(time.Second), // bounds each attempt's time to headers
		),
	})
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	resp, err := client.Get(srv.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body), "after", calls.Load(), "requests")
	// Output: 200 hello after 2 requests
}

// One breaker per host: a failing host is cut off without affecting others.
func ExampleNew_perHost() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer srv.Close()

	tr := resiliencehttp.New(resiliencehttp.Config{
		PerHost: func(host string) resilience.Policy {
			return breaker.New(breaker.Config{Name: host, ConsecutiveFailures: 2})
		},
	})
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	for range 3 {
		resp, err := client.Get(srv.URL)
		if err != nil {
			fmt.Println(errors.Is(err, breaker.ErrOpen))
			continue
		}
		resp.Body.Close()
		fmt.Println(resp.Status) // the caller sees the server's real answer
	}
	// Output:
	// 502 Bad Gateway
	// 502 Bad Gateway
	// true
}

// A POST is retried only when it carries an idempotency key; every attempt
// sends the same key (as an RFC 8941 string, the form the IETF draft
// specifies), so the server can run it at most once.
func ExampleNew_idempotencyKey() {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("attempt", calls.Add(1), "key", r.Header.Get("Idempotency-Key"))
		if calls.Load() == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "paid")
	}))
	defer srv.Close()

	tr := resiliencehttp.New(resiliencehttp.Config{
		Policy: retry.New(retry.Config{Backoff: backoff.Constant(time.Millisecond)}),
	})
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	// In real code: key := idempotency.NewKey(), once per logical request.
	ctx := idempotency.WithKey(context.Background(), "order-42")
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(`{"amount":10}`))
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(string(body))
	// Output:
	// attempt 1 key "order-42"
	// attempt 2 key "order-42"
	// paid
}

// With BufferBody, the answer is read inside the attempt: a body cut off
// mid-way is a failed attempt, sent again with the same key, and the
// server's idempotency middleware replays the answer it recorded.
func ExampleConfig_bufferBody() {
	var charges atomic.Int32
	charge := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		charges.Add(1)
		fmt.Fprint(w, `{"receipt":"r-1001","amount":10}`)
	})
	store := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	server := resiliencetest.FaultyHandler( // the first answer is cut after 5 bytes
		idempotency.Middleware(store, idempotency.MiddlewareConfig{})(charge),
		resiliencetest.HandlerConfig{Script: []resiliencetest.HTTPFault{resiliencetest.ResetBody(5)}},
	)
	srv := httptest.NewServer(server)
	defer srv.Close()

	tr := resiliencehttp.New(resiliencehttp.Config{
		Policy:     retry.New(retry.Config{Backoff: backoff.Constant(time.Millisecond)}),
		BufferBody: 1 << 20,
	})
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	ctx := idempotency.WithKey(context.Background(), idempotency.NewKey())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL, strings.NewReader(`{"amount":10}`))
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(string(body))
	fmt.Println("requests:", server.Stats().Requests, "charges:", charges.Load(), "replayed:", resp.Header.Get("Idempotent-Replayed"))
	// Output:
	// {"receipt":"r-1001","amount":10}
	// requests: 2 charges: 1 replayed: true
}

func ExampleParseRetryAfter() {
	now := time.Date(2025, time.March, 1, 12, 0, 0, 0, time.UTC)
	for _, h := range []string{"120", "Sat, 01 Mar 2025 12:00:30 GMT", "soon"} {
		d, ok := resiliencehttp.ParseRetryAfter(h, now)
		fmt.Println(d, ok)
	}
	// Output:
	// 2m0s true
	// 30s true
	// 0s false
}
