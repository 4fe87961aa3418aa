package breaker_test

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/breaker"
)

// A closed breaker with a time window records successes without its lock
// while there are no failures in a row; these tests prove that such
// successes still count towards the failure rate and still expire.

func TestTimeWindowCountsSuccessesRecordedWithoutTheLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{Window: 10 * time.Second, MinCalls: 1, FailureRate: 0.5})
		run(b, 10, ok)
		require.Equal(t, 10, b.Metrics().Calls)
		time.Sleep(3 * time.Second) // a new bucket, opened by the first success in it
		run(b, 5, ok)
		require.Equal(t, 15, b.Metrics().Calls)

		run(b, 14, boom)
		require.Equal(t, breaker.Closed, b.State(), "14 failures of 29 calls are below half")
		run(b, 1, boom)
		assert.Equal(t, breaker.Open, b.State(), "15 of 30: the successes counted")
	})
}

func TestTimeWindowExpiresSuccessesRecordedWithoutTheLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{Window: 10 * time.Second, MinCalls: 4, FailureRate: 0.5})
		run(b, 100, ok)
		time.Sleep(10 * time.Second)
		require.Equal(t, 0, b.Metrics().Calls, "a whole window later, no success is left")
		run(b, 4, boom)
		assert.Equal(t, breaker.Open, b.State(), "the expired successes no longer dilute the failures")
	})
}

func TestTimeWindowSuccessAfterFailuresResetsTheRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{Window: time.Minute, MinCalls: 1000, ConsecutiveFailures: 3})
		run(b, 2, boom)
		run(b, 1, ok) // under the lock: it ends the run of failures
		run(b, 2, boom)
		require.Equal(t, breaker.Closed, b.State(), "no three failures in a row")
		run(b, 1, boom)
		assert.Equal(t, breaker.Open, b.State())
	})
}

func TestTimeWindowCountsConcurrentSuccessesExactly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := breaker.New(breaker.Config{Window: 10 * time.Second, MinCalls: 1_000_000})
		const callers, rounds, per = 8, 5, 200
		var wg sync.WaitGroup
		for range callers {
			wg.Go(func() {
				for range rounds {
					run(b, per, ok)
					time.Sleep(time.Second)
				}
			})
		}
		wg.Wait()
		assert.Equal(t, callers*rounds*per, b.Metrics().Calls)
		// The rounds ran at 0s, 1s, ... 4s; at 10s only the first round's
		// bucket has left the window, at 11s the second's too.
		time.Sleep(5 * time.Second)
		assert.Equal(t, callers*(rounds-1)*per, b.Metrics().Calls)
		time.Sleep(time.Second)
		assert.Equal(t, callers*(rounds-2)*per, b.Metrics().Calls)
	})
}
