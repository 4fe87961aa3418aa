package idempotency_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
)

func TestDeriveKeyJoinsScopeAndKeyWhenTheyFit(t *testing.T) {
	assert.Equal(t, "refunds:order-42", idempotency.DeriveKey("refunds", "order-42"))
	assert.Equal(t, ":order-42", idempotency.DeriveKey("", "order-42"))
	assert.Equal(t, "a:b:c", idempotency.DeriveKey("a", "b:c"), "the client's key may hold colons")

	fits := strings.Repeat("k", idempotency.MaxKeyLen-len("refunds:"))
	assert.Equal(t, "refunds:"+fits, idempotency.DeriveKey("refunds", fits))
}

// isHashed reports whether key has the hashed form: '#' and 64 hex digits.
func isHashed(key string) bool {
	if len(key) != 65 || key[0] != '#' {
		return false
	}
	for _, c := range key[1:] {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}

func TestDeriveKeyHashesAKeyThatWouldOverflowMaxKeyLen(t *testing.T) {
	clientKey := strings.Repeat("k", idempotency.MaxKeyLen) // the longest key a client may send
	key := idempotency.DeriveKey("refunds", clientKey)

	assert.True(t, isHashed(key), key)
	assert.NoError(t, idempotency.ValidateKey(key))
	assert.Equal(t, key, idempotency.DeriveKey("refunds", clientKey), "deterministic")
	assert.NotEqual(t, key, idempotency.DeriveKey("payments", clientKey), "the scope is part of the digest")
	assert.NotEqual(t, key, idempotency.DeriveKey("refunds", clientKey[1:]+"x"))

	oneOver := strings.Repeat("k", idempotency.MaxKeyLen-len("refunds:")+1)
	assert.True(t, isHashed(idempotency.DeriveKey("refunds", oneOver)))
}

func TestDeriveKeyHashesWhatAHeaderCannotCarry(t *testing.T) {
	for _, c := range []struct{ scope, key string }{
		{"refunds", "line\nbreak"},
		{"refunds", "caf\u00e9"},
		{"refunds", "nul\x00"},
		{"tab\tscope", "order-42"},
		{"refunds", "del\x7f"},
	} {
		key := idempotency.DeriveKey(c.scope, c.key)
		assert.True(t, isHashed(key), "%q %q gave %q", c.scope, c.key, key)
	}
}

// TestDeriveKeyNeverMapsTwoPairsToOneKey: pairs that a plain join would
// confuse get different keys.
func TestDeriveKeyNeverMapsTwoPairsToOneKey(t *testing.T) {
	long := strings.Repeat("k", idempotency.MaxKeyLen)
	pairs := [][2]string{
		{"a", "b:c"}, {"a:b", "c"}, // the second scope has a colon: hashed
		{"ab", "c"}, {"a", "bc"},
		{"", "a:b"},
		{"x", long}, {"x" + long[:10], long[10:]}, // both hashed, equal concatenations
		{"#", "x"}, {"", "#x"},
	}
	seen := map[string][2]string{}
	for _, p := range pairs {
		key := idempotency.DeriveKey(p[0], p[1])
		require.NotEmpty(t, key)
		if other, dup := seen[key]; dup {
			t.Errorf("%q and %q both derive %q", other, p, key)
		}
		seen[key] = p
	}
}

func TestDeriveKeyOfNoKeyIsNoKey(t *testing.T) {
	assert.Empty(t, idempotency.DeriveKey("refunds", ""))
}
