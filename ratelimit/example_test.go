package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/ratelimit"
)

// A limiter of 2 calls a second, with a burst of 2, refuses the third
// call at once and says when a token comes.
func ExampleNew() {
	l := ratelimit.New(ratelimit.Config{Rate: 2, Burst: 2})
	for i := range 3 {
		err := l.Do(context.Background(), func(context.Context) error {
			fmt.Println("call", i, "ran")
			return nil
		})
		if errors.Is(err, ratelimit.ErrLimited) {
			wait, _ := resilience.RetryAfter(err)
			fmt.Println("call", i, "refused; a token in", wait.Round(100*time.Millisecond))
			fmt.Println("rejected:", errors.Is(err, resilience.ErrRejected))
		}
	}
	// Output:
	// call 0 ran
	// call 1 ran
	// call 2 refused; a token in 500ms
	// rejected: true
}

// Stacked limits — 1 call a second and 2 a minute — on one call: when the
// per-minute limit refuses, the per-second token the call took is given
// back, so a refusal of one limit spends nothing of the other.
func ExampleNew_stacked() {
	perSecond := ratelimit.New(ratelimit.Config{Rate: 1})
	perMinute := ratelimit.New(ratelimit.Config{Rate: 2, Per: time.Minute, Burst: 2})
	p := resilience.Chain(perSecond, perMinute)

	_ = perMinute.Allow() // another caller of the per-minute limit spends
	_ = perMinute.Allow() // both of its tokens

	err := p.Do(context.Background(), func(context.Context) error { return nil })
	fmt.Println("refused:", errors.Is(err, ratelimit.ErrLimited))
	fmt.Println("per-second token still free:", perSecond.Allow())
	// Output:
	// refused: true
	// per-second token still free: true
}

// The middleware limits each client to its own bucket, telling it its
// quota in the RateLimit fields and answering 429 once it is spent.
func ExampleMiddleware() {
	k := ratelimit.NewKeyed(ratelimit.Config{Name: "api", Rate: 10, Per: time.Minute, Burst: 2}, 0)
	h := ratelimit.Middleware(k, ratelimit.ClientIP)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "hello")
	}))
	for range 3 {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = "192.0.2.1:4321"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Header().Get("RateLimit-Policy"), w.Header().Get("RateLimit"))
		if ra := w.Header().Get("Retry-After"); ra != "" {
			fmt.Println("Retry-After:", ra)
		}
	}
	// Output:
	// 200 "api";q=2;w=12 "api";r=1;t=6
	// 200 "api";q=2;w=12 "api";r=0;t=12
	// 429 "api";q=2;w=12 "api";r=0;t=12
	// Retry-After: 6
}

// A Keyed limit gives each tenant a bucket of its own.
func ExampleNewKeyed() {
	k := ratelimit.NewKeyed(ratelimit.Config{Rate: 1, Per: time.Minute}, 1000)
	fmt.Println(k.Allow("tenant-a"), k.Allow("tenant-a"), k.Allow("tenant-b"))
	// Output:
	// true false true
}

// Limiters in several processes share one limit through a Store; here the
// in-memory one, which stands in for ratelimit/redisstore.
func ExampleNewMemoryStore() {
	store := ratelimit.NewMemoryStore(0)
	c := ratelimit.Config{Rate: 5, Burst: 1, Store: store, Key: "payments"}
	replica1, replica2 := ratelimit.New(c), ratelimit.New(c)
	fmt.Println(replica1.Allow(), replica2.Allow())
	// Output:
	// true false
}
