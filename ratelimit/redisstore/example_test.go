package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/ratelimit"
	"github.com/magicmagnets/resilience/ratelimit/redisstore"
)

// Every replica of a service gives its limiter the same Redis store and
// key: the four of them together admit 200 charges a second.
func Example() {
	opts, err := redis.ParseURL("redis://127.0.0.1:6379/0")
	if err != nil {
		panic(err)
	}
	// ContextTimeoutEnabled lets the store's Timeout stop a read from a
	// Redis that went silent.
	opts.ContextTimeoutEnabled = true
	client := redis.NewClient(opts)
	defer client.Close()
	store := redisstore.New(client, redisstore.Config{Prefix: "payments:limits:", Replicas: 4})

	limiter := ratelimit.New(ratelimit.Config{Rate: 200, Burst: 10, Store: store, Key: "charges"})
	err = limiter.Do(context.Background(), func(ctx context.Context) error {
		return nil // charge the card
	})
	if errors.Is(err, ratelimit.ErrLimited) {
		wait, _ := resilience.RetryAfter(err)
		fmt.Println("over the fleet's limit; try again in", wait)
	}
}

// When Redis cannot be reached, each replica decides locally at its share
// of the limit, here half of 4 a second with half the burst, and says so
// once in an event.
func Example_redisDown() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true}) // nothing listens
	defer client.Close()
	store := redisstore.New(client, redisstore.Config{
		Replicas: 2,
		Timeout:  20 * time.Millisecond,
		Observer: resilience.ObserverFunc(func(e resilience.Event) {
			fmt.Println(e.Kind, e.From, "->", e.To)
		}),
	})
	l := ratelimit.Limit{Rate: 4, Burst: 4}
	for range 3 {
		d, err := store.Take(context.Background(), "charges", l, 1)
		fmt.Println(d.Allowed, d.Remaining, err)
	}
	// Output:
	// state_change shared -> local
	// true 1 <nil>
	// true 0 <nil>
	// false 0 <nil>
}
