package idempotency_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
)

// tokenStore is a memory store that keeps every token a claim carried.
type tokenStore struct {
	*idempotency.MemoryStore
	mu     sync.Mutex
	tokens []string
}

func (s *tokenStore) Claim(ctx context.Context, key, fingerprint, token string, lease time.Duration) (idempotency.Claim, error) {
	s.mu.Lock()
	s.tokens = append(s.tokens, token)
	s.mu.Unlock()
	return s.MemoryStore.Claim(ctx, key, fingerprint, token, lease)
}

// Claims made at once from many goroutines, of different keys and of one
// key, never carry the same owner token, and each token is a valid one of
// NewToken's form.
func TestEveryClaimCarriesATokenOfItsOwn(t *testing.T) {
	s := &tokenStore{MemoryStore: idempotency.NewMemoryStore(idempotency.MemoryConfig{})}
	op := func(context.Context) (int, error) { return 1, nil }
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				_, _, _ = idempotency.Do(t.Context(), s, fmt.Sprintf("key-%d-%d", g, i), op, idempotency.Options{})
				_, _, _ = idempotency.Do(t.Context(), s, "shared", op, idempotency.Options{})
			}
		})
	}
	wg.Wait()
	require.Len(t, s.tokens, 1600)
	seen := make(map[string]bool, len(s.tokens))
	for _, token := range s.tokens {
		assert.False(t, seen[token], "token %q carried twice", token)
		seen[token] = true
		assert.Len(t, token, 32)
		assert.NoError(t, idempotency.ValidateToken(token))
	}
	assert.Len(t, s.tokens[0], len(idempotency.NewToken()))
}
