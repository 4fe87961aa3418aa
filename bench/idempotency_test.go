package bench

import (
	"context"
	"testing"
	"time"

	"github.com/magicmagnets/resilience/idempotency"
)

// BenchmarkIdempotencyReplay: the memory store answers a claim on a key
// whose operation has completed with the recorded result. No peer has an
// equivalent; the figure is here to check it against its target.
func BenchmarkIdempotencyReplay(b *testing.B) {
	s := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	ctx := context.Background()
	c, err := s.Claim(ctx, "key", "fp", idempotency.NewToken(), time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Complete(ctx, "key", c.Lock, []byte(`{"charge":"ch_1"}`), time.Hour); err != nil {
		b.Fatal(err)
	}
	token := idempotency.NewToken() // the store's work, not the token's
	b.Run("lib=resilience", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if c, err := s.Claim(ctx, "key", "fp", token, time.Minute); err != nil || !c.Replayed {
				b.Fatalf("not replayed: %v", err)
			}
		}
	})
}
