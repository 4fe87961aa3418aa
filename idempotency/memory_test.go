package idempotency_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/storetest"
)

func TestMemoryStorePassesContractWithFakeTime(t *testing.T) {
	storetest.Run(t, func(*testing.T) idempotency.Store {
		return idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	}, storetest.FakeTime())
}

func TestMemoryStorePassesContractWithRealTime(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out real leases")
	}
	storetest.Run(t, func(*testing.T) idempotency.Store {
		return idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxResultSize: 1000})
	}, storetest.Lease(100*time.Millisecond), storetest.MaxResultSize(1000))
}

func TestMemoryStoreEvictsOldestCompletedWhenFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxEntries: 2})
		ctx := t.Context()
		for _, key := range []string{"a", "b"} {
			c, err := s.Claim(ctx, key, "", time.Minute)
			require.NoError(t, err)
			require.NoError(t, s.Complete(ctx, key, c.Lock, []byte(key), time.Hour))
		}
		_, err := s.Claim(ctx, "c", "", time.Minute)
		require.NoError(t, err)
		assert.Equal(t, 2, s.Len())

		c, err := s.Claim(ctx, "a", "", time.Minute)
		require.NoError(t, err)
		assert.False(t, c.Replayed, "a, the oldest completed, was evicted")
	})
}

func TestMemoryStoreEvictsExpiredBeforeRetained(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxEntries: 2})
		ctx := t.Context()
		c, err := s.Claim(ctx, "done", "", time.Minute)
		require.NoError(t, err)
		require.NoError(t, s.Complete(ctx, "done", c.Lock, nil, time.Hour))
		_, err = s.Claim(ctx, "stuck", "", time.Second)
		require.NoError(t, err)
		time.Sleep(time.Second)

		_, err = s.Claim(ctx, "new", "", time.Minute)
		require.NoError(t, err)
		c, err = s.Claim(ctx, "done", "", time.Minute)
		require.NoError(t, err)
		assert.True(t, c.Replayed, "the expired in-progress record went first")
	})
}

func TestMemoryStoreNeverEvictsLiveInProgress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxEntries: 2})
		ctx := t.Context()
		for _, key := range []string{"a", "b"} {
			_, err := s.Claim(ctx, key, "", time.Minute)
			require.NoError(t, err)
		}
		_, err := s.Claim(ctx, "c", "", time.Minute)
		require.ErrorIs(t, err, idempotency.ErrStoreFull)
		for _, key := range []string{"a", "b"} {
			_, err := s.Claim(ctx, key, "", time.Minute)
			assert.ErrorIs(t, err, idempotency.ErrInProgress, key)
		}
	})
}

func TestMemoryStoreDropsExpiredRecordsLazily(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
		ctx := t.Context()
		for _, key := range []string{"a", "b"} {
			c, err := s.Claim(ctx, key, "", time.Minute)
			require.NoError(t, err)
			require.NoError(t, s.Complete(ctx, key, c.Lock, nil, time.Hour))
		}
		time.Sleep(time.Hour)
		_, err := s.Claim(ctx, "c", "", time.Minute)
		require.NoError(t, err)
		assert.Equal(t, 1, s.Len(), "both expired records were dropped by the claim")
	})
}

func TestNewMemoryStorePanicsOnNegativeLimits(t *testing.T) {
	assert.PanicsWithValue(t, "idempotency: NewMemoryStore: negative limit in {MaxEntries:-1 MaxResultSize:0}", func() {
		idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxEntries: -1})
	})
}
