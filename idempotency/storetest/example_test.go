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

// A store that processes share also proves that replicas of an HTTP service
// over it run a handler once per key. Every call of newStore opens its own
// connection, as each replica would, to the same server and key prefix.
func ExampleRunReplicas() {
	testReplicas := func(t *testing.T, open func(t *testing.T) idempotency.Store) {
		storetest.RunReplicas(t, open)
	}
	fmt.Println(testReplicas != nil)
	// Output: true
}

// A store whose records live on a server proves that an outage of the
// server never runs an operation without the store, nor twice. Stop and
// Start return once the server is down, or up again with its records.
func ExampleRunOutage() {
	testOutage := func(t *testing.T, newStore storetest.NewStore, stopServer, startServer func() error) {
		storetest.RunOutage(t, newStore, storetest.Outage{
			Stop: func(t *testing.T) {
				if err := stopServer(); err != nil {
					t.Fatal(err)
				}
			},
			Start: func(t *testing.T) {
				if err := startServer(); err != nil {
					t.Fatal(err)
				}
			},
			ClaimError: "mystore: claim",
		})
	}
	fmt.Println(testOutage != nil)
	// Output: true
}
