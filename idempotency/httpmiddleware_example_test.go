package idempotency_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/magicmagnets/resilience/idempotency"
)

// postCharge sends a POST with an Idempotency-Key and an Authorization
// header to h and prints what came back.
func postCharge(h http.Handler, key, auth string) {
	r := httptest.NewRequest(http.MethodPost, "/charges", strings.NewReader(`{"amount":50}`))
	r.Header.Set("Idempotency-Key", `"`+key+`"`)
	r.Header.Set("Authorization", auth)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code, w.Header().Get("Idempotent-Replayed"), strings.TrimSpace(w.Body.String()))
}

// By default the caller's credentials are part of the fingerprint: another
// caller reusing a key gets 422, never the first caller's response.
func ExampleMiddleware_anotherCaller() {
	store := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	charge := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"charge":"ch_1","card":"4242"}`)
	})
	h := idempotency.Middleware(store, idempotency.MiddlewareConfig{})(charge)

	postCharge(h, "order-1", "Bearer alice")
	postCharge(h, "order-1", "Bearer alice")   // her retry: the replay
	postCharge(h, "order-1", "Bearer mallory") // the same key from someone else
	// Output:
	// 201  {"charge":"ch_1","card":"4242"}
	// 201 true {"charge":"ch_1","card":"4242"}
	// 422  {"type":"about:blank","title":"Idempotency-Key reused","status":422,"detail":"This Idempotency-Key was used for a different request."}
}

// The handler reads its fence and passes it with its writes, so that the
// ledger refuses a write from an owner that lost its lease to a newer one.
func ExampleFenceFrom() {
	store := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	charge := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, _ := idempotency.FenceFrom(r.Context())
		fmt.Println("ledger write with fence", f.Fence)
		w.WriteHeader(http.StatusCreated)
	})
	h := idempotency.Middleware(store, idempotency.MiddlewareConfig{})(charge)
	postCharge(h, "order-2", "Bearer alice")
	// Output:
	// ledger write with fence 1
	// 201
}

// A handler that did nothing lasting releases the key, so that the retry runs
// it again, rather than have its refusal recorded and replayed.
func ExampleReleaseKey() {
	store := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	networkUp := false
	charge := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !networkUp {
			idempotency.ReleaseKey(r.Context()) // nothing was charged
			http.Error(w, "card network unreachable", http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, "charged")
	})
	h := idempotency.Middleware(store, idempotency.MiddlewareConfig{})(charge)
	postCharge(h, "order-3", "Bearer alice")
	networkUp = true
	postCharge(h, "order-3", "Bearer alice")
	postCharge(h, "order-3", "Bearer alice")
	// Output:
	// 502  card network unreachable
	// 201  charged
	// 201 true charged
}
