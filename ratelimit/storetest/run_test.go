package storetest_test

import (
	"testing"

	"github.com/magicmagnets/resilience/ratelimit"
	"github.com/magicmagnets/resilience/ratelimit/storetest"
)

func TestRunPassesTheMemoryStoreInFakeTime(t *testing.T) {
	storetest.Run(t, func(*testing.T) ratelimit.Store { return ratelimit.NewMemoryStore(0) }, storetest.FakeTime())
}

// The real-clock mode, whose slack a server's store relies on, holds for
// the memory store too.
func TestRunPassesTheMemoryStoreOnTheRealClock(t *testing.T) {
	shared := ratelimit.NewMemoryStore(0)
	storetest.Run(t, func(*testing.T) ratelimit.Store { return shared })
}
