package ratelimit_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/ratelimit"
	"github.com/magicmagnets/resilience/resiliencetest"
)

func TestKeyedKeepsOneLimitPerKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := ratelimit.NewKeyed(ratelimit.Config{Rate: 1, Burst: 2}, 0)
		assert.True(t, k.Allow("alice"))
		assert.True(t, k.Allow("alice"))
		assert.False(t, k.Allow("alice"))
		require.NoError(t, k.Do(t.Context(), "bob", ok), "bob's bucket is his own")
		err := k.Do(t.Context(), "alice", ok)
		assert.ErrorIs(t, err, ratelimit.ErrLimited)
		assert.Equal(t, time.Second, waitOf(t, err))
		time.Sleep(time.Second)
		assert.True(t, k.Allow("alice"))
		assert.Equal(t, 2, k.Len())
	})
}

func TestKeyedMemoryStaysWithinMaxKeysForAHundredThousandKeys(t *testing.T) {
	const maxKeys = 1000
	k := ratelimit.NewKeyed(ratelimit.Config{Rate: 1}, maxKeys)
	for i := range 100_000 {
		require.True(t, k.Allow("client-"+strconv.Itoa(i)))
		if i%997 == 0 {
			require.LessOrEqual(t, k.Len(), maxKeys)
		}
	}
	assert.Equal(t, maxKeys, k.Len())
}

func TestKeyedEvictsTheLeastRecentlyUsedKey(t *testing.T) {
	k := ratelimit.NewKeyed(ratelimit.Config{Rate: 1, Per: time.Hour}, 2)
	require.True(t, k.Allow("a"))
	require.True(t, k.Allow("b"))
	assert.False(t, k.Allow("a"), "a is now the most recently used, and spent")
	require.True(t, k.Allow("c"), "a new key evicts b, the least recently used")
	assert.False(t, k.Allow("a"), "a was kept with its state")
	assert.True(t, k.Allow("b"), "b was forgotten: it starts again with a full bucket")
	assert.Equal(t, 2, k.Len())
}

func TestKeyedRejectsAnEmptyOrTooLongKey(t *testing.T) {
	store := ratelimit.NewMemoryStore(0)
	for name, k := range map[string]*ratelimit.Keyed{
		"local": ratelimit.NewKeyed(ratelimit.Config{Rate: 1}, 0),
		"store": ratelimit.NewKeyed(ratelimit.Config{Rate: 1, Store: store, Key: "api"}, 0),
	} {
		t.Run(name, func(t *testing.T) {
			tooLong := strings.Repeat("k", ratelimit.MaxKeyLen+1)
			for _, key := range []string{"", tooLong} {
				ran := false
				err := k.Do(t.Context(), key, func(context.Context) error { ran = true; return nil })
				assert.ErrorIs(t, err, ratelimit.ErrInvalidKey)
				assert.NotErrorIs(t, err, resilience.ErrRejected, "not a refusal")
				assert.False(t, ran)
				assert.False(t, k.Allow(key))
			}
			assert.Zero(t, k.Len())
		})
	}
}

func TestKeyedWithAStoreKeepsEachKeyUnderTheConfigKeyAndAColon(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mem := ratelimit.NewMemoryStore(0)
		store := &storeFunc{take: mem.Take}
		k := ratelimit.NewKeyed(ratelimit.Config{Rate: 1, Store: store, Key: "api"}, 0)
		require.NoError(t, k.Do(t.Context(), "alice", ok))
		assert.True(t, k.Allow("bob"))
		assert.False(t, k.Allow("alice"))
		assert.Equal(t, []string{"api:alice", "api:bob", "api:alice"}, store.asked())
		assert.Zero(t, k.Len(), "the store keeps the state")

		// The store key must fit: "api:" leaves MaxKeyLen-4 bytes.
		longest := strings.Repeat("k", ratelimit.MaxKeyLen-4)
		assert.True(t, k.Allow(longest))
		assert.ErrorIs(t, k.Do(t.Context(), longest+"k", ok), ratelimit.ErrInvalidKey)
	})
}

func TestKeyedDoWithNilFuncReturnsErrNilFunc(t *testing.T) {
	k := ratelimit.NewKeyed(ratelimit.Config{Rate: 1}, 0)
	assert.ErrorIs(t, k.Do(t.Context(), "a", nil), resilience.ErrNilFunc)
	assert.True(t, k.Allow("a"))
}

func TestKeyedEventsAreTheLimitersEvents(t *testing.T) {
	rec := new(resiliencetest.Recorder)
	k := ratelimit.NewKeyed(ratelimit.Config{Name: "tenants", Rate: 1, Observer: rec}, 0)
	require.NoError(t, k.Do(t.Context(), "a", ok))
	require.Error(t, k.Do(t.Context(), "a", ok))
	require.ErrorIs(t, k.Do(t.Context(), "", ok), ratelimit.ErrInvalidKey)
	assert.Len(t, ofKind(rec, resilience.KindCall), 2, "an invalid key emits nothing")
	rejected := ofKind(rec, resilience.KindRejected)
	require.Len(t, rejected, 1)
	assert.Equal(t, "tenants", rejected[0].Name)
	assert.Equal(t, "ratelimit", rejected[0].Policy)
}

// Concurrent callers on keys that keep evicting one another: no race, the
// bound holds, and a key in steady use keeps within its own limit. Between
// two uses of the hot key come at most 10 of the 15 cold keys (5 callers,
// each round in any order), so with room for 12 the hot key is never the
// least recently used.
func TestKeyedUnderConcurrentChurnKeepsTheBoundAndEachKeysRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		k := ratelimit.NewKeyed(ratelimit.Config{Rate: 20, Burst: 2}, 12)
		var mu sync.Mutex
		var hot []time.Time
		end := time.Now().Add(5 * time.Second)
		var wg sync.WaitGroup
		for g := range 6 {
			wg.Go(func() {
				for i := 0; time.Now().Before(end); i++ {
					if g == 0 {
						if k.Allow("hot") {
							mu.Lock()
							hot = append(hot, time.Now())
							mu.Unlock()
						}
					} else {
						_ = k.Do(t.Context(), "cold-"+strconv.Itoa(g)+"-"+strconv.Itoa(i%3), ok)
					}
					time.Sleep(time.Millisecond)
				}
			})
		}
		wg.Wait()
		assert.Equal(t, 12, k.Len())
		assertWithinRate(t, hot, 20, 2)
		assert.GreaterOrEqual(t, len(hot), 100, "the hot key, used every millisecond, stays the most recent and keeps its bucket")
	})
}
