package storetest_test

import (
	"testing"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/storetest"
)

func TestRunPassesTheMemoryStoreInFakeTime(t *testing.T) {
	storetest.Run(t, func(*testing.T) idempotency.Store {
		return idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	}, storetest.FakeTime())
}

func TestRunReplicasPassesReplicasSharingOneMemoryStore(t *testing.T) {
	shared := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	storetest.RunReplicas(t, func(*testing.T) idempotency.Store { return shared })
}
