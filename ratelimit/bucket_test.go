package ratelimit_test

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/ratelimit"
)

// A waiter that gives up gives its token back whole even when another
// waiter reserved after it: the next caller is due when the second waiter
// is, not a slot later. (x/time/rate's Reservation.Cancel restores nothing
// once a later reservation exists.)
func TestWaiterGivingUpAheadOfAnotherGivesItsTokenBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(ratelimit.Config{Rate: 1, MaxWait: 5 * time.Second})
		require.NoError(t, l.Do(t.Context(), ok)) // the bucket's one token
		start := time.Now()
		ctx, cancel := context.WithCancel(t.Context())
		first := make(chan error)
		go func() { first <- l.Do(ctx, ok) }() // due at 1s
		synctest.Wait()
		second := make(chan time.Duration)
		go func() {
			_ = l.Do(t.Context(), ok) // due at 2s
			second <- time.Since(start)
		}()
		synctest.Wait()
		time.Sleep(500 * time.Millisecond)
		cancel()
		require.ErrorIs(t, <-first, context.Canceled)
		require.NoError(t, l.Do(t.Context(), ok))
		assert.Equal(t, 2*time.Second, time.Since(start), "the given-back token is the next caller's: due with the second waiter's, not at 3s")
		assert.Equal(t, 2*time.Second, <-second, "the second waiter keeps its time")
		again := time.Now()
		require.NoError(t, l.Do(t.Context(), ok))
		assert.Equal(t, time.Second, time.Since(again), "and the bucket is empty again: the next token comes at 3s")
	})
}

// The local bucket decides as a Store does: a limiter on a MemoryStore and
// a local one, asked at the same moments, give the same answers and the
// same waits.
func TestLocalBucketDecidesAsTheMemoryStore(t *testing.T) {
	for _, c := range []ratelimit.Config{
		{Rate: 10, Burst: 3},
		{Rate: 3, Burst: 2},
		{Rate: 7, Per: time.Minute, Burst: 5},
		{Rate: 1e6, Burst: 100},
	} {
		synctest.Test(t, func(t *testing.T) {
			local := ratelimit.New(c)
			sc := c
			sc.Store, sc.Key = ratelimit.NewMemoryStore(0), "k"
			shared := ratelimit.New(sc)
			per := c.Per
			if per == 0 {
				per = time.Second
			}
			step := time.Duration(float64(per) / c.Rate)
			rng := rand.New(rand.NewPCG(1, 2))
			admitted := 0
			for i := range 2000 {
				time.Sleep(time.Duration(rng.Int64N(int64(3 * step / 2)))) // callers a third above the rate
				if i%2 == 0 {
					a, b := local.Allow(), shared.Allow()
					require.Equal(t, b, a, "%+v: Allow %d", c, i)
					if a {
						admitted++
					}
					continue
				}
				errL, errS := local.Do(t.Context(), ok), shared.Do(t.Context(), ok)
				require.Equal(t, errS == nil, errL == nil, "%+v: Do %d: local %v, store %v", c, i, errL, errS)
				if errL != nil {
					require.Equal(t, waitOf(t, errS), waitOf(t, errL), "%+v: Do %d: the wait", c, i)
				} else {
					admitted++
				}
			}
			assert.Greater(t, admitted, 500, "%+v: the sequence admits and refuses", c)
			assert.Less(t, admitted, 2000, "%+v: the sequence admits and refuses", c)
		})
	}
}

// Limits at the edges of what Validate accepts neither overflow nor panic:
// an interval of centuries refuses the second call with a wait of
// centuries, a burst of math.MaxInt admits calls by the thousand, and a
// rate above one per half nanosecond admits every call (as a Store does).
func TestLocalBucketAtExtremeLimits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		slow := ratelimit.New(ratelimit.Config{Rate: 1e-300, MaxWait: math.MaxInt64})
		assert.True(t, slow.Allow())
		assert.False(t, slow.Allow())
		ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
		defer cancel()
		err := slow.Do(ctx, ok)
		assert.Greater(t, waitOf(t, err), 100*365*24*time.Hour, "refused: the token comes after the deadline")

		wide := ratelimit.New(ratelimit.Config{Rate: 1, Burst: math.MaxInt})
		for i := range 10000 {
			require.True(t, wide.Allow(), "call %d", i)
		}

		fast := ratelimit.New(ratelimit.Config{Rate: 1e10})
		for i := range 10000 {
			require.True(t, fast.Allow(), "call %d", i)
		}
	})
}

// Allow from many goroutines at once, with no time passing, admits exactly
// Burst calls: the CAS lets no two callers take the same token.
func TestConcurrentAllowAdmitsExactlyTheBurst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const burst = 1000
		l := ratelimit.New(ratelimit.Config{Rate: 1, Per: time.Hour, Burst: burst})
		var mu sync.Mutex
		admitted := 0
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				n := 0
				for range 500 {
					if l.Allow() {
						n++
					}
				}
				mu.Lock()
				admitted += n
				mu.Unlock()
			})
		}
		wg.Wait()
		assert.Equal(t, burst, admitted)
	})
}

// Callers preempted between reading the clock and deciding must not be
// refused for it: at a rate no caller reaches, goroutines outnumbering the
// processors and preempted at any point are all admitted.
func TestPreemptedCallersAreNotRefusedAtARateNobodyReaches(t *testing.T) {
	l := ratelimit.New(ratelimit.Config{Rate: 1e9, Burst: 1000})
	var refused atomic.Int64
	var wg sync.WaitGroup
	for range 4 * runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for range 50000 {
				if !l.Allow() {
					refused.Add(1)
				}
			}
		})
	}
	wg.Wait()
	assert.Zero(t, refused.Load())
}
