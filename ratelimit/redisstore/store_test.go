package redisstore_test

import (
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/ratelimit"
	"github.com/magicmagnets/resilience/ratelimit/redisstore"
	"github.com/magicmagnets/resilience/ratelimit/storetest"
)

// unique returns a prefix no other test or run uses.
func unique(name string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return name + ":" + hex.EncodeToString(b[:]) + ":"
}

// The contract suites run with a Timeout of a second: they check Redis's
// decisions, and a busy CI machine under the race detector can delay a
// Take past the default's 50ms, which would decide it locally (the
// timeout tests check that).

func TestStorePassesTheContractSuite(t *testing.T) {
	client := newClient(t)
	storetest.Run(t, func(*testing.T) ratelimit.Store {
		return redisstore.New(client, redisstore.Config{Timeout: time.Second})
	})
}

func TestStoreUnderFailClosedPassesTheContractSuite(t *testing.T) {
	client := newClient(t)
	storetest.Run(t, func(*testing.T) ratelimit.Store {
		return redisstore.New(client, redisstore.Config{Prefix: unique("closed"), FailClosed: true, Replicas: 4, Timeout: time.Second})
	})
}

func TestLimitLivesUnderItsPrefixUntilTheBucketIsFull(t *testing.T) {
	client := newClient(t)
	prefix := unique("ttl")
	s := redisstore.New(client, redisstore.Config{Prefix: prefix})
	l := ratelimit.Limit{Rate: 1, Per: time.Minute, Burst: 3}
	d, err := s.Take(t.Context(), "k", l, 2)
	require.NoError(t, err)
	require.True(t, d.Allowed)
	ttl, err := client.PTTL(t.Context(), prefix+"k").Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, 119*time.Second, "the key lives until its two tokens are back")
	assert.LessOrEqual(t, ttl, 2*time.Minute)

	d, err = s.Take(t.Context(), "k", l, 2)
	require.NoError(t, err)
	require.False(t, d.Allowed)
	after, err := client.PTTL(t.Context(), prefix+"k").Result()
	require.NoError(t, err)
	assert.LessOrEqual(t, after, ttl, "a denial does not extend the key")
}

func TestKeyOfAFastLimitOutlivesItsBucketForReSends(t *testing.T) {
	client := newClient(t)
	prefix := unique("keep")
	s := redisstore.New(client, redisstore.Config{Prefix: prefix, Timeout: time.Second})
	d, err := s.Take(t.Context(), "k", ratelimit.Limit{Rate: 1000}, 1)
	require.NoError(t, err)
	require.True(t, d.Allowed)
	assert.LessOrEqual(t, d.ResetAfter, time.Millisecond)
	ttl, err := client.PTTL(t.Context(), prefix+"k").Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, 1900*time.Millisecond, "kept for twice the timeout")
	assert.LessOrEqual(t, ttl, 2*time.Second)
}

func TestNewPanicsOnWhatValidateRejects(t *testing.T) {
	client := newClient(t)
	assert.PanicsWithValue(t, "redisstore: New: nil client", func() { redisstore.New(nil, redisstore.Config{}) })
	for _, c := range []redisstore.Config{{Replicas: -1}, {Timeout: -time.Millisecond}} {
		err := c.Validate()
		require.Error(t, err, "%+v", c)
		assert.Contains(t, err.Error(), "redisstore: ")
		assert.PanicsWithValue(t, err.Error(), func() { redisstore.New(client, c) })
	}
	assert.NoError(t, redisstore.Config{}.Validate())
	assert.NoError(t, redisstore.Config{Prefix: "p:", Replicas: 8, FailClosed: true, Timeout: time.Second, Name: "api"}.Validate())
}
