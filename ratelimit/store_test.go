package ratelimit_test

import (
	"context"
	"errors"
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

// storeFunc adapts a function to a Store and records the keys asked.
type storeFunc struct {
	mu   sync.Mutex
	keys []string
	take func(ctx context.Context, key string, l ratelimit.Limit, n int) (ratelimit.Decision, error)
}

func (s *storeFunc) Take(ctx context.Context, key string, l ratelimit.Limit, n int) (ratelimit.Decision, error) {
	s.mu.Lock()
	s.keys = append(s.keys, key)
	s.mu.Unlock()
	return s.take(ctx, key, l, n)
}

func (s *storeFunc) asked() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.keys...)
}

var errStoreDown = errors.New("store down")

func failingStore() *storeFunc {
	return &storeFunc{take: func(context.Context, string, ratelimit.Limit, int) (ratelimit.Decision, error) {
		return ratelimit.Decision{}, errStoreDown
	}}
}

func TestLimiterWithAStoreSharesTheLimitAcrossLimiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := ratelimit.NewMemoryStore(0)
		c := ratelimit.Config{Rate: 10, Burst: 2, Store: store, Key: "api"}
		a, b := ratelimit.New(c), ratelimit.New(c) // two replicas
		require.NoError(t, a.Do(t.Context(), ok))
		require.NoError(t, b.Do(t.Context(), ok))
		err := a.Do(t.Context(), ok)
		assert.ErrorIs(t, err, ratelimit.ErrLimited)
		assert.ErrorIs(t, err, resilience.ErrRejected)
		assert.Equal(t, 100*time.Millisecond, waitOf(t, err), "the store's RetryAfter")
		assert.False(t, b.Allow())
		time.Sleep(100 * time.Millisecond)
		assert.True(t, b.Allow())
	})
}

func TestLimiterWithAStoreWaitsItsRetryAfterAndTakesOnceMore(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := ratelimit.NewMemoryStore(0)
		l := ratelimit.New(ratelimit.Config{Rate: 10, Store: store, Key: "api", MaxWait: 150 * time.Millisecond})
		require.NoError(t, l.Do(t.Context(), ok))
		start := time.Now()
		require.NoError(t, l.Do(t.Context(), ok))
		assert.Equal(t, 100*time.Millisecond, time.Since(start))

		// A store that denies again after the wait: refused with its new
		// RetryAfter, after exactly two Takes.
		calls := 0
		denying := &storeFunc{take: func(context.Context, string, ratelimit.Limit, int) (ratelimit.Decision, error) {
			calls++
			return ratelimit.Decision{RetryAfter: time.Duration(calls) * 10 * time.Millisecond}, nil
		}}
		l = ratelimit.New(ratelimit.Config{Rate: 10, Store: denying, Key: "api", MaxWait: time.Second})
		start = time.Now()
		err := l.Do(t.Context(), ok)
		assert.Equal(t, 20*time.Millisecond, waitOf(t, err))
		assert.Equal(t, 2, calls)
		assert.Equal(t, 10*time.Millisecond, time.Since(start), "one wait, then the answer")
	})
}

func TestLimiterWithAStoreRefusesWithoutWaitingPastMaxWaitOrTheDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := ratelimit.NewMemoryStore(0)
		l := ratelimit.New(ratelimit.Config{Rate: 10, Store: store, Key: "api", MaxWait: 50 * time.Millisecond})
		require.NoError(t, l.Do(t.Context(), ok))
		start := time.Now()
		assert.Equal(t, 100*time.Millisecond, waitOf(t, l.Do(t.Context(), ok)), "beyond MaxWait")
		l = ratelimit.New(ratelimit.Config{Rate: 10, Store: store, Key: "api", MaxWait: time.Second})
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		assert.Equal(t, 100*time.Millisecond, waitOf(t, l.Do(ctx, ok)), "ends at the deadline")
		assert.Zero(t, time.Since(start), "no refusal waited")
	})
}

func TestLimiterWithAStoreThatCannotDecideFailsClosed(t *testing.T) {
	rec := new(resiliencetest.Recorder)
	l := ratelimit.New(ratelimit.Config{Rate: 10, Store: failingStore(), Key: "api", Observer: rec})
	ran := false
	err := l.Do(t.Context(), func(context.Context) error { ran = true; return nil })
	assert.False(t, ran)
	assert.ErrorIs(t, err, ratelimit.ErrLimited)
	assert.ErrorIs(t, err, resilience.ErrRejected)
	assert.ErrorIs(t, err, errStoreDown, "the cause is kept")
	var le *ratelimit.LimitedError
	require.ErrorAs(t, err, &le)
	assert.Zero(t, le.Wait, "nobody knows when")
	assert.False(t, l.Allow())
	rejected := ofKind(rec, resilience.KindRejected)
	require.Len(t, rejected, 2)
	assert.ErrorIs(t, rejected[0].Err, errStoreDown)
}

func TestLimiterWithAStoreReturnsTheCallersCancelNotARefusal(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	store := &storeFunc{take: func(ctx context.Context, _ string, _ ratelimit.Limit, _ int) (ratelimit.Decision, error) {
		cancel() // the caller gives up while the store is asked
		return ratelimit.Decision{}, ctx.Err()
	}}
	l := ratelimit.New(ratelimit.Config{Rate: 10, Store: store, Key: "api"})
	err := l.Do(ctx, ok)
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, resilience.ErrRejected)
}

func TestLimiterWithAStoreAsksForOneTokenOfItsLimitUnderItsKey(t *testing.T) {
	var got []ratelimit.Limit
	var ns []int
	store := &storeFunc{take: func(_ context.Context, _ string, l ratelimit.Limit, n int) (ratelimit.Decision, error) {
		got, ns = append(got, l), append(ns, n)
		return ratelimit.Decision{Allowed: true}, nil
	}}
	l := ratelimit.New(ratelimit.Config{Rate: 100, Per: time.Minute, Burst: 7, Store: store, Key: "payments"})
	require.NoError(t, l.Do(t.Context(), ok))
	assert.True(t, l.Allow())
	assert.Equal(t, []string{"payments", "payments"}, store.asked())
	assert.Equal(t, []ratelimit.Limit{{Rate: 100, Per: time.Minute, Burst: 7}, {Rate: 100, Per: time.Minute, Burst: 7}}, got)
	assert.Equal(t, []int{1, 1}, ns)
}

// Documented: a Store cannot give a token back, so a Store-backed limit
// outside a refusing one spends its token.
func TestStoreBackedOuterLimitSpendsItsTokenWhenTheInnerRefuses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		outer := ratelimit.New(ratelimit.Config{Rate: 1, Burst: 2, Store: ratelimit.NewMemoryStore(0), Key: "api"})
		inner := ratelimit.New(ratelimit.Config{Rate: 1})
		p := resilience.Chain(outer, inner)
		require.NoError(t, p.Do(t.Context(), ok))
		require.ErrorIs(t, p.Do(t.Context(), ok), ratelimit.ErrLimited)
		assert.False(t, outer.Allow(), "the refused call spent the store's second token")
	})
}
