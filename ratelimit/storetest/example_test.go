package storetest_test

import (
	"fmt"
	"testing"

	"github.com/magicmagnets/resilience/ratelimit"
	"github.com/magicmagnets/resilience/ratelimit/storetest"
)

// A store's tests call Run from an ordinary test function. A store that
// takes its time from time.Now runs the suite in fake time; one whose
// clock is a server's waits out short real intervals, its subtests in
// parallel, so they may share one server.
func ExampleRun() {
	testMemoryStore := func(t *testing.T) {
		storetest.Run(t, func(*testing.T) ratelimit.Store { return ratelimit.NewMemoryStore(0) }, storetest.FakeTime())
	}
	testServerStore := func(t *testing.T, open func() ratelimit.Store) {
		storetest.Run(t, func(*testing.T) ratelimit.Store { return open() })
	}
	fmt.Println(testMemoryStore != nil, testServerStore != nil)
	// Output: true true
}
