package main

import (
	"fmt"

	"github.com/magicmagnets/resilience/idempotency"
)

// redisStores is replaced once the demo links the Redis store.
func redisStores(url string) (func(string) (idempotency.Store, error), func(), error) {
	return nil, nil, fmt.Errorf("-redis %s: not available in this build", url)
}
