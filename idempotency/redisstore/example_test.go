package redisstore_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/redisstore"
)

// These examples need a Redis server, so they are compiled but not run.

// Every replica of a service points its idempotency middleware at the same
// Redis: a retried POST runs the handler once, whichever replica it reaches.
func Example_middleware() {
	// ContextTimeoutEnabled lets the store's per-call timeout stop a read
	// from a Redis that went silent.
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
	defer client.Close()
	store := redisstore.New(client, redisstore.Config{Prefix: "payments:idempotency:"})

	charge := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintln(w, `{"charge":"ch_1"}`)
	})
	http.Handle("POST /charges", idempotency.Middleware(store, idempotency.MiddlewareConfig{})(charge))
}

// idempotency.Do runs an operation once per key across every process that
// shares the Redis store, and replays its result to the others.
func Example_do() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
	defer client.Close()
	store := redisstore.New(client, redisstore.Config{Timeout: time.Second})

	id, replayed, err := idempotency.Do(context.Background(), store, "order-42/charge",
		func(ctx context.Context) (string, error) {
			return "ch_1", nil // charge the card once
		}, idempotency.Options{Lease: 10 * time.Second, Retention: 24 * time.Hour})
	fmt.Println(id, replayed, err)
}
