package redisstore_test

import (
	"strconv"
	"strings"
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
		rec, err := client.Get(t.Context(), redisstore.DefaultPrefix+key).Result()
		require.NoError(t, err)
		fence, err := strconv.ParseInt(rec[1:strings.IndexByte(rec, ' ')], 10, 64)
		require.NoError(t, err, "record %q", rec)
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

	rec, err := client.Get(t.Context(), prefix+"k").Result()
	require.NoError(t, err)
	assert.Equal(t, "x1 "+c.Lock.Token+" ", rec)
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
	rec, err := client.Get(t.Context(), prefix+"k").Result()
	require.NoError(t, err)
	assert.Equal(t, "c1 "+c.Lock.Token+" 2 fpr", rec)
}

func TestInProgressRecordHoldsFenceTokenFingerprintAndLease(t *testing.T) {
	client := newClient(t)
	ctx := t.Context()
	prefix := "inprogress-" + idempotency.NewKey() + ":"
	s := redisstore.New(client, redisstore.Config{Prefix: prefix})
	fp := "a fingerprint\x00with 7 any bytes "
	c, err := s.Claim(ctx, "k", fp, idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	rec, err := client.Get(ctx, prefix+"k").Result()
	require.NoError(t, err)
	assert.Equal(t, "p1 "+c.Lock.Token+" "+strconv.Itoa(len(fp))+" "+fp+"60000", rec)

	require.NoError(t, s.Extend(ctx, "k", c.Lock, 90*time.Second))
	rec, err = client.Get(ctx, prefix+"k").Result()
	require.NoError(t, err)
	assert.Equal(t, "p1 "+c.Lock.Token+" "+strconv.Itoa(len(fp))+" "+fp+"90000", rec, "Extend rewrites the lease only")
	ttl, err := client.PTTL(ctx, prefix+"k").Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, 179*time.Second, "the key lives for twice the extended lease")

	// The next claim after the lease has passed takes the next fence, and
	// the record its own token, fingerprint and lease.
	require.NoError(t, client.PExpire(ctx, prefix+"k", 90*time.Second).Err()) // the lease has passed
	c2, err := s.Claim(ctx, "k", "fp2", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	assert.Equal(t, int64(2), c2.Lock.Fence)
	rec, err = client.Get(ctx, prefix+"k").Result()
	require.NoError(t, err)
	assert.Equal(t, "p2 "+c2.Lock.Token+" 3 fp260000", rec)

	require.NoError(t, s.Complete(ctx, "k", c2.Lock, []byte("a result"), time.Hour))
	rec, err = client.Get(ctx, prefix+"k").Result()
	require.NoError(t, err)
	assert.Equal(t, "c2 "+c2.Lock.Token+" 3 fp2a result", rec)
	replay, err := s.Claim(ctx, "k", "fp2", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	assert.Equal(t, idempotency.Claim{Replayed: true, Result: []byte("a result")}, replay)
	_, err = s.Claim(ctx, "k", "fp", idempotency.NewToken(), time.Minute)
	assert.ErrorIs(t, err, idempotency.ErrMismatch, "a fingerprint that is a prefix of the record's")
	_, err = s.Claim(ctx, "k", "fp2a", idempotency.NewToken(), time.Minute)
	assert.ErrorIs(t, err, idempotency.ErrMismatch, "a fingerprint that runs into the result")
}

// Records of the earlier layout, a hash, are refused, never taken for
// absent: no operation runs on a key whose record the store cannot read.
func TestRecordsOfTheEarlierLayoutAreRefused(t *testing.T) {
	client := newClient(t)
	ctx := t.Context()
	prefix := "legacy-" + idempotency.NewKey() + ":"
	s := redisstore.New(client, redisstore.Config{Prefix: prefix})
	require.NoError(t, client.HSet(ctx, prefix+"running", "s", "p", "f", "fp", "n", 3, "t", "old-token", "l", 60000).Err())
	require.NoError(t, client.HSet(ctx, prefix+"done", "s", "c", "f", "fp", "n", 2, "t", "old-token", "r", "old result").Err())

	for _, key := range []string{"running", "done"} {
		_, err := s.Claim(ctx, key, "fp", idempotency.NewToken(), time.Minute)
		assert.ErrorContains(t, err, "WRONGTYPE", key)
		lock := idempotency.Lock{Token: "old-token", Fence: 3}
		assert.ErrorContains(t, s.Complete(ctx, key, lock, []byte("r"), time.Minute), "WRONGTYPE", key)
		assert.ErrorContains(t, s.Extend(ctx, key, lock, time.Minute), "WRONGTYPE", key)
		assert.ErrorContains(t, s.Release(ctx, key, lock, time.Minute), "WRONGTYPE", key)
	}
	n, err := client.HLen(ctx, prefix+"done").Result()
	require.NoError(t, err)
	assert.Equal(t, int64(5), n, "left as it was")
}

// A string under the store's prefix that is not a record is an error for
// Claim, and a lost lock for the others (no lock matches it).
func TestGarbageRecordsAreErrors(t *testing.T) {
	client := newClient(t)
	ctx := t.Context()
	prefix := "garbage-" + idempotency.NewKey() + ":"
	s := redisstore.New(client, redisstore.Config{Prefix: prefix})
	for _, rec := range []string{"", "hello", "p1 tok", "p1 tok x fp60000", "c1 tok 9 fp", "q1 tok 2 fp"} {
		require.NoError(t, client.Set(ctx, prefix+"k", rec, time.Minute).Err())
		_, err := s.Claim(ctx, "k", "fp", idempotency.NewToken(), time.Minute)
		assert.ErrorContains(t, err, "redisstore: claim", "%q", rec)
		assert.ErrorIs(t, s.Complete(ctx, "k", idempotency.Lock{Token: "tok", Fence: 2}, []byte("r"), time.Minute),
			idempotency.ErrLockLost, "%q", rec)
		got, err := client.Get(ctx, prefix+"k").Result()
		require.NoError(t, err)
		assert.Equal(t, rec, got, "left as it was")
	}
}

// A completed record whose key has no TTL left counts as expired: the next
// claim takes it with the next fence. PERSIST stands in for the last
// millisecond of a retention, when Redis still has the key and PTTL is no
// longer positive.
func TestACompletedRecordWithNoTTLLeftIsClaimedWithTheNextFence(t *testing.T) {
	client := newClient(t)
	ctx := t.Context()
	prefix := "expiring-" + idempotency.NewKey() + ":"
	s := redisstore.New(client, redisstore.Config{Prefix: prefix})
	c, err := s.Claim(ctx, "k", "fp", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	require.NoError(t, s.Complete(ctx, "k", c.Lock, []byte("r"), time.Hour))
	require.NoError(t, client.Persist(ctx, prefix+"k").Err())

	c2, err := s.Claim(ctx, "k", "other", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	assert.False(t, c2.Replayed)
	assert.Equal(t, int64(2), c2.Lock.Fence)
	assert.ErrorIs(t, s.Complete(ctx, "k", c.Lock, []byte("late"), time.Hour), idempotency.ErrLockLost)
}
