package ratelimit_test

import (
	"testing"

	"github.com/magicmagnets/resilience/ratelimit"
	"github.com/magicmagnets/resilience/ratelimit/storetest"
)

func TestMemoryStoreKeepsTheStoreContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) ratelimit.Store { return ratelimit.NewMemoryStore(0) }, storetest.FakeTime())
}
