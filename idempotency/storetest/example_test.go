package storetest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/storetest"
)

// A store's tests call Run from an ordinary test function. A store that takes
// its time from time.Now runs the suite in fake time; one whose clock is a
// server's waits out short real leases.
func ExampleRun() {
	testMemoryStore := func(t *testing.T) {
		storetest.Run(t, func(*testing.T) idempotency.Store {
			return idempotency.NewMemoryStore(idempotency.MemoryConfig{})
		}, storetest.FakeTime())
	}
	testServerStore := func(t *testing.T, newStore storetest.NewStore) {
		storetest.Run(t, newStore, storetest.Lease(300*time.Millisecond), storetest.Resolution(time.Millisecond))
	}
	fmt.Println(testMemoryStore != nil, testServerStore != nil)
	// Output: true true
}
