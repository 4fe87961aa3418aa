package main

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/redisstore"
)

// redisStores connects to the Redis at url and returns a factory of stores,
// one key prefix per server and run, so that runs never see each other's
// records.
func redisStores(url string) (func(string) (idempotency.Store, error), func(), error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, nil, fmt.Errorf("-redis: %w", err)
	}
	client := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		return nil, nil, fmt.Errorf("-redis %s: %w", url, err)
	}
	run := time.Now().UnixNano()
	newStore := func(name string) (idempotency.Store, error) {
		return redisstore.New(client, redisstore.Config{Prefix: fmt.Sprintf("payments-demo:%d:%s:", run, name)}), nil
	}
	return newStore, func() { _ = client.Close() }, nil
}
