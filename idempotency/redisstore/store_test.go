package redisstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/redisstore"
	"github.com/magicmagnets/resilience/idempotency/storetest"
)

func TestStorePassesTheContractSuite(t *testing.T) {
	client := newClient(t)
	storetest.Run(t, func(*testing.T) idempotency.Store {
		return redisstore.New(client, redisstore.Config{})
	}, storetest.StoredFence(func(t *testing.T, key string) int64 {
		fence, err := client.HGet(t.Context(), redisstore.DefaultPrefix+key, "n").Int64()
		require.NoError(t, err)
		return fence
	}))
}

func TestTwoReplicasSharingTheStoreRunTheHandlerOnce(t *testing.T) {
	prefix := "replicas:" + idempotency.NewKey() + ":"
	storetest.RunReplicas(t, func(t *testing.T) idempotency.Store {
		// Each replica has its own connection pool, as separate processes would.
		return redisstore.New(newClient(t), redisstore.Config{Prefix: prefix})
	})
}

func TestStorePassesTheContractSuiteWithASmallResultLimit(t *testing.T) {
	client := newClient(t)
	storetest.Run(t, func(*testing.T) idempotency.Store {
		return redisstore.New(client, redisstore.Config{Prefix: "small:" + idempotency.NewKey() + ":", MaxResultSize: 64})
	}, storetest.MaxResultSize(64))
}

func TestStoreKeepsRecordsUnderItsPrefix(t *testing.T) {
	client := newClient(t)
	prefix := "p-" + idempotency.NewKey() + ":"
	s := redisstore.New(client, redisstore.Config{Prefix: prefix})
	c, err := s.Claim(t.Context(), "k\x00", "fp", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	require.NoError(t, s.Complete(t.Context(), "k\x00", c.Lock, []byte("r"), time.Minute))

	ttl, err := client.PTTL(t.Context(), prefix+"k\x00").Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, 59*time.Second, "the retention is the key's TTL")
	assert.LessOrEqual(t, ttl, time.Minute)
}

func TestInProgressKeyLivesForTwoLeases(t *testing.T) {
	client := newClient(t)
	prefix := "lease-" + idempotency.NewKey() + ":"
	s := redisstore.New(client, redisstore.Config{Prefix: prefix})
	_, err := s.Claim(t.Context(), "k", "fp", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	ttl, err := client.PTTL(t.Context(), prefix+"k").Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, 119*time.Second, "kept one more lease after the lease for a late owner and the next fence")
	assert.LessOrEqual(t, ttl, 2*time.Minute)
}

func TestNewPanicsOnProgrammerErrors(t *testing.T) {
	assert.PanicsWithValue(t, "redisstore: New: nil client", func() { redisstore.New(nil, redisstore.Config{}) })
	client := newClient(t)
	assert.Panics(t, func() { redisstore.New(client, redisstore.Config{MaxResultSize: -1}) })
	assert.Panics(t, func() { redisstore.New(client, redisstore.Config{Timeout: -time.Second}) })
}

func TestReleasedRecordKeepsTokenAndFenceForTheRetention(t *testing.T) {
	client := newClient(t)
	prefix := "released-" + idempotency.NewKey() + ":"
	s := redisstore.New(client, redisstore.Config{Prefix: prefix})
	c, err := s.Claim(t.Context(), "k", "fp", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	require.NoError(t, s.Release(t.Context(), "k", c.Lock, time.Hour))

	rec, err := client.HGetAll(t.Context(), prefix+"k").Result()
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"s": "x", "t": c.Lock.Token, "n": "1"}, rec)
	ttl, err := client.PTTL(t.Context(), prefix+"k").Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, 59*time.Minute, "kept for the retention")
	assert.LessOrEqual(t, ttl, time.Hour)
}

func TestCompletedRecordKeepsItsToken(t *testing.T) {
	client := newClient(t)
	prefix := "completed-" + idempotency.NewKey() + ":"
	s := redisstore.New(client, redisstore.Config{Prefix: prefix})
	c, err := s.Claim(t.Context(), "k", "fp", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	require.NoError(t, s.Complete(t.Context(), "k", c.Lock, []byte("r"), time.Hour))
	rec, err := client.HGetAll(t.Context(), prefix+"k").Result()
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"s": "c", "f": "fp", "t": c.Lock.Token, "n": "1", "r": "r"}, rec)
}

// Records written before the state field existed: in progress while they
// have a token, completed once they have none.
func TestRecordsOfTheEarlierLayoutAreRead(t *testing.T) {
	client := newClient(t)
	ctx := t.Context()
	prefix := "legacy-" + idempotency.NewKey() + ":"
	s := redisstore.New(client, redisstore.Config{Prefix: prefix})
	require.NoError(t, client.HSet(ctx, prefix+"running", "f", "fp", "n", 3, "t", "old-token", "l", 60000).Err())
	require.NoError(t, client.PExpire(ctx, prefix+"running", 2*time.Minute).Err())
	require.NoError(t, client.HSet(ctx, prefix+"done", "f", "fp", "n", 2, "r", "old result").Err())
	require.NoError(t, client.PExpire(ctx, prefix+"done", time.Minute).Err())

	_, err := s.Claim(ctx, "running", "fp", idempotency.NewToken(), time.Minute)
	assert.ErrorIs(t, err, idempotency.ErrInProgress)
	lock := idempotency.Lock{Token: "old-token", Fence: 3}
	require.NoError(t, s.Extend(ctx, "running", lock, time.Minute))
	require.NoError(t, s.Complete(ctx, "running", lock, []byte("r"), time.Minute))
	c, err := s.Claim(ctx, "running", "fp", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	assert.True(t, c.Replayed)

	c, err = s.Claim(ctx, "done", "fp", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	assert.True(t, c.Replayed)
	assert.Equal(t, []byte("old result"), c.Result)
	_, err = s.Claim(ctx, "done", "other", idempotency.NewToken(), time.Minute)
	assert.ErrorIs(t, err, idempotency.ErrMismatch)
}
