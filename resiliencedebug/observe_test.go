package resiliencedebug_test

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/resiliencedebug"
)

// tile returns the tile of (policy, name) in d's snapshot.
func tile(t *testing.T, d *resiliencedebug.Dashboard, policy, name string) resiliencedebug.Tile {
	t.Helper()
	for _, tl := range d.Snapshot().Policies {
		if tl.Policy == policy && tl.Name == name && !tl.Other {
			return tl
		}
	}
	t.Fatalf("no tile for %s %q", policy, name)
	return resiliencedebug.Tile{}
}

func call(d resilience.Observer, policy, name string, took time.Duration, err error) {
	d.Observe(resilience.Event{Policy: policy, Name: name, Kind: resilience.KindCall, Duration: took, Err: err})
}

func TestObserveCountsEachKind(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := resiliencedebug.New(resiliencedebug.Config{})
		rejected := fmt.Errorf("full: %w", resilience.ErrRejected)
		for range 6 {
			call(d, "breaker", "db", 10*time.Millisecond, nil)
		}
		call(d, "breaker", "db", 10*time.Millisecond, errBoom)
		call(d, "breaker", "db", 0, rejected)
		for _, k := range []resilience.Kind{
			resilience.KindRejected, resilience.KindTimeout, resilience.KindTimeout,
			resilience.KindRetry, resilience.KindRetry, resilience.KindRetry,
			resilience.KindHedge, resilience.KindReplay, resilience.KindFallback, resilience.KindGiveUp,
		} {
			d.Observe(resilience.Event{Policy: "breaker", Name: "db", Kind: k})
		}
		d.Observe(resilience.Event{Policy: "breaker", Name: "db", Kind: resilience.KindStateChange, From: "closed", To: "open"})

		tl := tile(t, d, "breaker", "db")
		assert.Equal(t, uint64(8), tl.Calls, "every finished call, the rejected one included")
		assert.Equal(t, uint64(6), tl.Successes)
		assert.Equal(t, uint64(1), tl.Failures, "a rejection is not a failure")
		assert.Equal(t, uint64(1), tl.Rejections)
		assert.Equal(t, uint64(2), tl.Timeouts)
		assert.Equal(t, uint64(3), tl.Retries)
		assert.Equal(t, uint64(1), tl.Hedges)
		assert.Equal(t, uint64(1), tl.Replays)
		assert.Equal(t, uint64(1), tl.Fallbacks)
		assert.Equal(t, "open", tl.State, "the last state change seen")
		assert.InDelta(t, 0.8, tl.RequestRate, 1e-9, "8 calls over 10 s")
		assert.InDelta(t, 1.0/8, tl.ErrorRate, 1e-9)
		assert.InDelta(t, 1.0/8, tl.RejectionRate, 1e-9)
		require.Len(t, tl.History, 120)
		assert.Equal(t, uint32(8), tl.History[119], "the current second is last")
	})
}

func TestLatencyPercentilesLeaveRejectionsOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := resiliencedebug.New(resiliencedebug.Config{})
		// 98 calls of 3ms (the 2–5ms bin), 2 of 1.5s (the 1–2s bin), and
		// rejections that took no time at all.
		for range 98 {
			call(d, "retry", "api", 3*time.Millisecond, nil)
		}
		call(d, "retry", "api", 1500*time.Millisecond, errBoom)
		call(d, "retry", "api", 1500*time.Millisecond, nil)
		for range 100 {
			call(d, "retry", "api", 0, resilience.ErrRejected)
		}

		tl := tile(t, d, "retry", "api")
		// The median is the 50th of 98 calls in [2ms, 5ms]: 2ms + 50/98 of 3ms.
		frac := 50.0 / 98
		assert.Equal(t, 2*time.Millisecond+time.Duration(frac*float64(3*time.Millisecond)), tl.P50)
		// The 99th is the first of 2 calls in [1s, 2s].
		assert.Equal(t, 1500*time.Millisecond, tl.P99)
	})
}

func TestPercentilesAreZeroWithoutCalls(t *testing.T) {
	d := resiliencedebug.New(resiliencedebug.Config{})
	d.Observe(resilience.Event{Policy: "retry", Name: "api", Kind: resilience.KindRetry})
	tl := tile(t, d, "retry", "api")
	assert.Zero(t, tl.P50)
	assert.Zero(t, tl.P99)
	assert.Zero(t, tl.ErrorRate)
}

func TestVerySlowCallsLandInTheLastBin(t *testing.T) {
	d := resiliencedebug.New(resiliencedebug.Config{})
	call(d, "timeout", "x", time.Hour, nil)
	assert.Equal(t, 50*time.Second, tile(t, d, "timeout", "x").P99, "the lower bound of the unbounded bin")
}

func TestWindowRollsOverTenSecondsAndHistoryOverTwoMinutes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := resiliencedebug.New(resiliencedebug.Config{})
		for range 5 {
			call(d, "breaker", "db", 100*time.Millisecond, errBoom)
		}
		time.Sleep(3 * time.Second)
		call(d, "breaker", "db", time.Millisecond, nil)

		tl := tile(t, d, "breaker", "db")
		assert.Equal(t, uint64(6), tl.Calls)
		assert.Equal(t, 70*time.Millisecond, tl.P50, "rank 3 of 6: the second of five in [50ms, 100ms]")
		assert.Equal(t, uint32(5), tl.History[116])
		assert.Equal(t, uint32(1), tl.History[119])

		time.Sleep(7 * time.Second) // the first second leaves the window
		tl = tile(t, d, "breaker", "db")
		assert.Equal(t, uint64(1), tl.Calls)
		assert.Zero(t, tl.Failures)
		assert.InDelta(t, 0.1, tl.RequestRate, 1e-9)
		assert.Equal(t, 750*time.Microsecond, tl.P50, "the failures' latencies left with them: the middle of [500µs, 1ms]")
		assert.Equal(t, uint32(5), tl.History[109], "the history keeps it")

		time.Sleep(100 * time.Second)
		tl = tile(t, d, "breaker", "db")
		assert.Zero(t, tl.Calls)
		assert.Zero(t, tl.P50)
		assert.Equal(t, uint32(5), tl.History[9])
		assert.Equal(t, uint32(1), tl.History[12])

		time.Sleep(10 * time.Minute) // a long gap clears everything
		call(d, "breaker", "db", time.Millisecond, nil)
		tl = tile(t, d, "breaker", "db")
		assert.Equal(t, uint64(1), tl.Calls)
		sum := uint32(0)
		for _, c := range tl.History {
			sum += c
		}
		assert.Equal(t, uint32(1), sum)
	})
}

func TestLimitChangesSetTheLimit(t *testing.T) {
	d := resiliencedebug.New(resiliencedebug.Config{})
	d.Observe(resilience.Event{Policy: "adaptive", Name: "api", Kind: resilience.KindLimitChange, From: "20", To: "14"})
	tl := tile(t, d, "adaptive", "api")
	require.NotNil(t, tl.Limit)
	assert.Equal(t, 14, *tl.Limit)
	assert.Nil(t, tl.InFlight)
}

func TestObserveIsSafeForConcurrentUse(t *testing.T) {
	d := resiliencedebug.New(resiliencedebug.Config{MaxNames: 8})
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 2000 {
				call(d, "retry", fmt.Sprint("n", (g+i)%12), time.Millisecond, nil)
				if i%100 == 0 {
					_ = d.Snapshot()
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
	var calls uint64
	for _, tl := range d.Snapshot().Policies {
		calls += tl.Calls
	}
	assert.Equal(t, uint64(8000), calls, "every call is counted once, in its own tile or in other")
}
