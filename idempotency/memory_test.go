package idempotency_test

import (
	"context"
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
			c, err := s.Claim(ctx, key, "", idempotency.NewToken(), time.Minute)
			require.NoError(t, err)
			require.NoError(t, s.Complete(ctx, key, c.Lock, []byte(key), time.Hour))
		}
		_, err := s.Claim(ctx, "c", "", idempotency.NewToken(), time.Minute)
		require.NoError(t, err)
		assert.Equal(t, 2, s.Len())

		c, err := s.Claim(ctx, "a", "", idempotency.NewToken(), time.Minute)
		require.NoError(t, err)
		assert.False(t, c.Replayed, "a, the oldest completed, was evicted")
	})
}

func TestMemoryStoreEvictsExpiredBeforeRetained(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxEntries: 2})
		ctx := t.Context()
		c, err := s.Claim(ctx, "done", "", idempotency.NewToken(), time.Minute)
		require.NoError(t, err)
		require.NoError(t, s.Complete(ctx, "done", c.Lock, nil, time.Hour))
		_, err = s.Claim(ctx, "stuck", "", idempotency.NewToken(), time.Second)
		require.NoError(t, err)
		time.Sleep(time.Second)

		_, err = s.Claim(ctx, "new", "", idempotency.NewToken(), time.Minute)
		require.NoError(t, err)
		c, err = s.Claim(ctx, "done", "", idempotency.NewToken(), time.Minute)
		require.NoError(t, err)
		assert.True(t, c.Replayed, "the expired in-progress record went first")
	})
}

func TestMemoryStoreNeverEvictsLiveInProgress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxEntries: 2})
		ctx := t.Context()
		for _, key := range []string{"a", "b"} {
			_, err := s.Claim(ctx, key, "", idempotency.NewToken(), time.Minute)
			require.NoError(t, err)
		}
		_, err := s.Claim(ctx, "c", "", idempotency.NewToken(), time.Minute)
		require.ErrorIs(t, err, idempotency.ErrStoreFull)
		for _, key := range []string{"a", "b"} {
			_, err := s.Claim(ctx, key, "", idempotency.NewToken(), time.Minute)
			assert.ErrorIs(t, err, idempotency.ErrInProgress, key)
		}
	})
}

func TestMemoryStoreDropsExpiredRecordsLazily(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
		ctx := t.Context()
		for _, key := range []string{"a", "b"} {
			c, err := s.Claim(ctx, key, "", idempotency.NewToken(), time.Minute)
			require.NoError(t, err)
			require.NoError(t, s.Complete(ctx, key, c.Lock, nil, time.Hour))
		}
		time.Sleep(time.Hour)
		_, err := s.Claim(ctx, "c", "", idempotency.NewToken(), time.Minute)
		require.NoError(t, err)
		assert.Equal(t, 1, s.Len(), "both expired records were dropped by the claim")
	})
}

func TestNewMemoryStorePanicsOnNegativeLimits(t *testing.T) {
	assert.PanicsWithValue(t, "idempotency: NewMemoryStore: negative limit in {MaxEntries:-1 MaxBytes:0 MaxResultSize:0}", func() {
		idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxEntries: -1})
	})
}

func TestMemoryStoreEvictsInDeadlineOrderWhateverTheRetention(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxEntries: 2})
		ctx := t.Context()
		// "long" is retained for a day, "short" for a second; "short" was
		// completed later, so an oldest-first rule would drop "long".
		for _, r := range []struct {
			key       string
			retention time.Duration
		}{{"long", 24 * time.Hour}, {"short", time.Second}} {
			c, err := s.Claim(ctx, r.key, "", idempotency.NewToken(), time.Minute)
			require.NoError(t, err)
			require.NoError(t, s.Complete(ctx, r.key, c.Lock, []byte(r.key), r.retention))
		}
		time.Sleep(2 * time.Second)
		_, err := s.Claim(ctx, "new", "", idempotency.NewToken(), time.Minute)
		require.NoError(t, err)
		c, err := s.Claim(ctx, "long", "", idempotency.NewToken(), time.Minute)
		require.NoError(t, err)
		assert.True(t, c.Replayed, "the 24h record outlived the expired 1s one")
	})
}

func TestMemoryStoreMakesRoomFromAnExpiredInProgressRecord(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxEntries: 1})
		ctx := t.Context()
		_, err := s.Claim(ctx, "stuck", "", idempotency.NewToken(), time.Second)
		require.NoError(t, err)
		time.Sleep(time.Second)
		_, err = s.Claim(ctx, "new", "", idempotency.NewToken(), time.Minute)
		assert.NoError(t, err, "an expired in-progress record is not a reason to be full")
	})
}

func TestMemoryStoreIsBoundedByBytes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxBytes: 4096})
		ctx := t.Context()
		result := make([]byte, 1000)
		for i := range 20 {
			key := string(rune('a' + i))
			c, err := s.Claim(ctx, key, "", idempotency.NewToken(), time.Minute)
			require.NoError(t, err)
			require.NoError(t, s.Complete(ctx, key, c.Lock, result, time.Hour))
		}
		assert.LessOrEqual(t, s.Len(), 4, "about 1 KiB a record under a 4 KiB bound")
		c, err := s.Claim(ctx, "t", "", idempotency.NewToken(), time.Minute)
		require.NoError(t, err)
		assert.True(t, c.Replayed, "the newest records are kept")

		// Live in-progress records are never dropped: when they fill the
		// bound, a result that does not fit is refused and nothing is lost.
		full := idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxBytes: 1024})
		c1, err := full.Claim(ctx, "a", "", idempotency.NewToken(), time.Minute)
		require.NoError(t, err)
		err = full.Complete(ctx, "a", c1.Lock, make([]byte, 2000), time.Hour)
		assert.ErrorIs(t, err, idempotency.ErrStoreFull)
		require.NoError(t, full.Complete(ctx, "a", c1.Lock, []byte("ok"), time.Hour), "still owned")
	})
}

func TestMemoryStoreRejectsANegativeByteBound(t *testing.T) {
	assert.Panics(t, func() { idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxBytes: -1}) })
}

// Do answers a replay from a memory store by reading the record instead of
// claiming it; the answer must be the one a claim gives in every state: a
// replay only of a record completed, within its retention, with the same
// fingerprint, and otherwise what the claim decides.
func TestMemoryStoreReplaysFromAReadOnlyWhatAClaimWouldReplay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
		runs := 0
		op := func(ctx context.Context) (int64, error) {
			runs++
			f, _ := idempotency.FenceFrom(ctx)
			return f.Fence, nil
		}
		opts := idempotency.Options{Fingerprint: "a", Retention: time.Hour}
		do := func(ctx context.Context, o idempotency.Options) (int64, bool, error) {
			return idempotency.Do(ctx, s, "k", op, o)
		}

		_, _, err := do(t.Context(), opts)
		require.NoError(t, err)
		v, replayed, err := do(t.Context(), opts)
		require.NoError(t, err)
		assert.True(t, replayed)
		assert.Equal(t, int64(1), v)

		other := opts
		other.Fingerprint = "b"
		_, _, err = do(t.Context(), other)
		assert.ErrorIs(t, err, idempotency.ErrMismatch, "a completed record with another fingerprint")

		done, cancel := context.WithCancel(t.Context())
		cancel()
		_, replayed, err = do(done, opts)
		assert.ErrorIs(t, err, context.Canceled, "a done context runs nothing and replays nothing")
		assert.False(t, replayed)

		time.Sleep(time.Hour) // the retention ends
		_, replayed, err = do(t.Context(), opts)
		require.NoError(t, err)
		assert.False(t, replayed, "a record past its retention is claimed again")
		assert.Equal(t, 2, runs)

		c, err := s.Claim(t.Context(), "p", "a", idempotency.NewToken(), time.Minute)
		require.NoError(t, err)
		_, _, err = idempotency.Do(t.Context(), s, "p", op, opts)
		assert.ErrorIs(t, err, idempotency.ErrInProgress, "an in-progress record")
		require.NoError(t, s.Release(t.Context(), "p", c.Lock, time.Hour))
		v, replayed, err = idempotency.Do(t.Context(), s, "p", op, opts)
		require.NoError(t, err)
		assert.False(t, replayed, "a released record runs again")
		assert.Equal(t, int64(2), v, "with a higher fence")
	})
}

// A replay answered from a read drops expired records as a claim does, so
// that a store that only replays still lets go of them.
func TestMemoryStoreReplaysDropExpiredRecords(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
		op := func(context.Context) (int, error) { return 1, nil }
		_, _, err := idempotency.Do(t.Context(), s, "short", op, idempotency.Options{Retention: time.Second})
		require.NoError(t, err)
		_, _, err = idempotency.Do(t.Context(), s, "long", op, idempotency.Options{Retention: time.Hour})
		require.NoError(t, err)
		require.Equal(t, 2, s.Len())

		time.Sleep(2 * time.Second)
		_, replayed, err := idempotency.Do(t.Context(), s, "long", op, idempotency.Options{})
		require.NoError(t, err)
		assert.True(t, replayed)
		assert.Equal(t, 1, s.Len(), "the expired record is gone")
	})
}
