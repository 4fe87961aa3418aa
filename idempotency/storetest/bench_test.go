package storetest_test

import (
	"testing"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/storetest"
)

func memoryBenchStore(b *testing.B, _ int) storetest.BenchStore {
	return storetest.BenchStore{Store: idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxEntries: 10_000_000})}
}

func BenchmarkMemoryNewKey(b *testing.B)     { storetest.BenchmarkNewKey(b, memoryBenchStore) }
func BenchmarkMemoryReplay(b *testing.B)     { storetest.BenchmarkReplay(b, memoryBenchStore) }
func BenchmarkMemoryThroughput(b *testing.B) { storetest.BenchmarkThroughput(b, memoryBenchStore) }
