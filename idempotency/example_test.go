package idempotency_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/idempotency"
)

// A charge runs once per key; the retry gets the first charge's result.
func ExampleDo() {
	store := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	charges := 0
	charge := func(ctx context.Context) (string, error) {
		charges++
		return fmt.Sprintf("ch_%d", charges), nil
	}
	opts := idempotency.Options{Fingerprint: "charge 50 EUR to cus_42"}

	id, replayed, err := idempotency.Do(context.Background(), store, "order-1001", charge, opts)
	fmt.Println(id, replayed, err)
	// The response was lost; the client retries with the same key.
	id, replayed, err = idempotency.Do(context.Background(), store, "order-1001", charge, opts)
	fmt.Println(id, replayed, err)
	fmt.Println("charges made:", charges)
	// Output:
	// ch_1 false <nil>
	// ch_1 true <nil>
	// charges made: 1
}

// A declined card is the operation's final answer: marked Permanent, it is
// recorded and replayed rather than retried.
func ExamplePermanent() {
	store := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	charge := func(ctx context.Context) (string, error) {
		return "", idempotency.Final(errors.New("card declined"))
	}
	_, _, err := idempotency.Do(context.Background(), store, "order-1002", charge, idempotency.Options{})
	fmt.Println(err)
	_, replayed, err := idempotency.Do(context.Background(), store, "order-1002", charge, idempotency.Options{})
	fmt.Println(replayed, err)
	// Output:
	// card declined
	// true card declined
}

// The Policy reads the key from the context, so it chains with the other
// policies; the caller sets one key per logical request.
func ExampleNewPolicy() {
	p := idempotency.NewPolicy(idempotency.NewMemoryStore(idempotency.MemoryConfig{}), idempotency.Config{})
	sent := 0
	send := func(ctx context.Context) error { sent++; return nil }

	ctx := idempotency.WithKey(context.Background(), "payout-7")
	for range 3 {
		_ = resilience.Chain(p).Do(ctx, send)
	}
	fmt.Println("sent:", sent)
	// Output: sent: 1
}

// The middleware replays the first response to a retried POST.
func ExampleMiddleware() {
	store := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"charge":"ch_1"}`)
	})
	h := idempotency.Middleware(store, idempotency.MiddlewareConfig{RequireKey: true})(handler)

	for range 2 {
		r := httptest.NewRequest(http.MethodPost, "/charges", strings.NewReader(`{"amount":50}`))
		r.Header.Set("Idempotency-Key", `"4b1f0e9a-charge"`)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Header().Get("Idempotent-Replayed"), w.Body.String())
	}
	// Output:
	// 201  {"charge":"ch_1"}
	// 201 true {"charge":"ch_1"}
}

// Clients generate one key per logical request and reuse it for every retry.
func ExampleNewKey() {
	key := idempotency.NewKey()
	ctx := idempotency.WithKey(context.Background(), key)
	got, ok := idempotency.KeyFrom(ctx)
	fmt.Println(len(key), got == key, ok)
	// Output: 36 true true
}
