package storetest

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/ratelimit"
)

// take takes n tokens of l under key and requires that the store decided.
func (e *env) take(t *testing.T, key string, l ratelimit.Limit, n int) ratelimit.Decision {
	t.Helper()
	d, err := e.s.Take(t.Context(), key, l, n)
	require.NoError(t, err, "take %d of %+v under %q", n, l, key)
	return d
}

// allow takes n tokens and requires that they were taken, leaving
// remaining whole tokens.
func (e *env) allow(t *testing.T, key string, l ratelimit.Limit, n, remaining int) ratelimit.Decision {
	t.Helper()
	d := e.take(t, key, l, n)
	require.True(t, d.Allowed, "take %d of %+v under %q denied: %+v", n, l, key, d)
	assert.Equal(t, remaining, d.Remaining, "remaining after taking %d", n)
	assert.Zero(t, d.RetryAfter, "an allowed take has no RetryAfter")
	return d
}

// deny takes n tokens and requires that they were refused, leaving
// remaining whole tokens.
func (e *env) deny(t *testing.T, key string, l ratelimit.Limit, n, remaining int) ratelimit.Decision {
	t.Helper()
	d := e.take(t, key, l, n)
	require.False(t, d.Allowed, "take %d of %+v under %q allowed: %+v", n, l, key, d)
	assert.Equal(t, remaining, d.Remaining, "remaining after a refusal of %d", n)
	assert.Positive(t, d.RetryAfter, "a refusal says when to come back")
	return d
}

// near requires got to be want less some of the time elapsed since the
// state it depends on was set: in [want-elapsed-resolution,
// want+resolution], exactly want under fake time.
func (e *env) near(t *testing.T, what string, got, want, elapsed time.Duration) {
	t.Helper()
	if e.fake {
		assert.Equal(t, want, got, what)
		return
	}
	hi := want + e.resolution
	if hi < want { // saturate: want may be math.MaxInt64
		hi = math.MaxInt64
	}
	assert.GreaterOrEqual(t, got, want-elapsed-e.resolution, "%s: shorter than the time passed explains", what)
	assert.LessOrEqual(t, got, hi, "%s: longer than the limit explains", what)
}

// sleep waits d and, with real clocks, the store's resolution on top, so
// that the store's clock has certainly moved d.
func (e *env) sleep(d time.Duration) { time.Sleep(d + e.resolution) }

// every returns a limit of one token every t, at most burst at once.
func every(t time.Duration, burst int) ratelimit.Limit {
	return ratelimit.Limit{Rate: 1, Per: t, Burst: burst}
}

// interval is the emission interval of the limits the timing cases use:
// long enough that a few round trips to a server on another host stay well
// inside it, short enough that the suite runs in about a second.
const interval = 200 * time.Millisecond

func burstThenRefusal(t *testing.T, e *env) {
	key, l := e.key("k"), ratelimit.Limit{Rate: 5, Per: time.Second, Burst: 3} // T = 200ms
	start := time.Now()
	for i := range 3 {
		d := e.allow(t, key, l, 1, 2-i)
		e.near(t, "ResetAfter", d.ResetAfter, time.Duration(i+1)*interval, time.Since(start))
	}
	d := e.deny(t, key, l, 1, 0)
	elapsed := time.Since(start)
	require.Less(t, elapsed, interval, "the takes must happen within one interval")
	e.near(t, "RetryAfter", d.RetryAfter, interval, elapsed)
	e.near(t, "ResetAfter of the refusal", d.ResetAfter, 3*interval, elapsed)
}

func refill(t *testing.T, e *env) {
	key, l := e.key("k"), every(interval, 2)
	e.allow(t, key, l, 1, 1)
	e.allow(t, key, l, 1, 0)
	mark := time.Now()
	d := e.deny(t, key, l, 1, 0)
	for range 2 {
		// The token comes back RetryAfter after the refusal, which the
		// store decided after mark; the next one an interval later.
		e.sleep(d.RetryAfter)
		e.allow(t, key, l, 1, 0)
		refilled := mark.Add(d.RetryAfter)
		mark = time.Now()
		d = e.deny(t, key, l, 1, 0)
		elapsed := time.Since(refilled)
		require.Less(t, elapsed, interval)
		e.near(t, "RetryAfter after a refill", d.RetryAfter, interval, elapsed)
	}
}

func resetAfter(t *testing.T, e *env) {
	key, l := e.key("k"), every(interval/4, 4)
	e.allow(t, key, l, 2, 2)
	d := e.allow(t, key, l, 2, 0)
	e.sleep(d.ResetAfter)
	d = e.allow(t, key, l, 4, 0)
	e.near(t, "ResetAfter of a full burst", d.ResetAfter, interval, 0)
}

func denialSpendsNothing(t *testing.T, e *env) {
	key, l := e.key("k"), every(interval, 2)
	e.allow(t, key, l, 2, 0)
	first := e.deny(t, key, l, 1, 0)
	last := first
	for range 20 {
		d := e.deny(t, key, l, 1, 0)
		assert.LessOrEqual(t, d.RetryAfter, last.RetryAfter, "a refusal moved the next token away")
		assert.LessOrEqual(t, d.ResetAfter, last.ResetAfter, "a refusal moved the reset away")
		last = d
	}
	e.deny(t, key, l, 2, 0) // a refused take of the whole burst spends nothing either
	e.sleep(first.RetryAfter)
	e.allow(t, key, l, 1, 0)
}

func severalTokens(t *testing.T, e *env) {
	key, l := e.key("k"), every(interval, 5)
	start := time.Now()
	d := e.allow(t, key, l, 3, 2)
	e.near(t, "ResetAfter", d.ResetAfter, 3*interval, time.Since(start))
	d = e.deny(t, key, l, 3, 2)
	e.near(t, "RetryAfter for the token missing", d.RetryAfter, interval, time.Since(start))
	e.allow(t, key, l, 2, 0)
	d = e.deny(t, key, l, 1, 0)
	elapsed := time.Since(start)
	require.Less(t, elapsed, interval)
	e.near(t, "RetryAfter", d.RetryAfter, interval, elapsed)
	d = e.deny(t, key, l, 5, 0)
	e.near(t, "RetryAfter for a whole burst", d.RetryAfter, 5*interval, elapsed)
}

func moreThanBurst(t *testing.T, e *env) {
	key, l := e.key("k"), every(time.Hour, 3)
	for _, n := range []int{4, 1 << 40} {
		d, err := e.s.Take(t.Context(), key, l, n)
		assert.Error(t, err, "take %d of a burst of 3", n)
		assert.Zero(t, d)
	}
	e.allow(t, key, l, 3, 0) // the key is untouched: its whole burst is there
	_, err := e.s.Take(t.Context(), key, l, 4)
	assert.Error(t, err, "on an empty bucket too")
}

func zeroLimitFields(t *testing.T, e *env) {
	key, l := e.key("k"), ratelimit.Limit{Rate: 5} // one token every 200ms, one at a time
	start := time.Now()
	d := e.allow(t, key, l, 1, 0)
	e.near(t, "ResetAfter", d.ResetAfter, interval, time.Since(start))
	d = e.deny(t, key, l, 1, 0)
	e.near(t, "RetryAfter", d.RetryAfter, interval, time.Since(start))
	_, err := e.s.Take(t.Context(), key, l, 2)
	assert.Error(t, err, "a zero Burst is a burst of one")
}

func independentKeys(t *testing.T, e *env) {
	l := every(time.Hour, 1)
	e.allow(t, e.key("a"), l, 1, 0)
	e.deny(t, e.key("a"), l, 1, 0)
	e.allow(t, e.key("b"), l, 1, 0)
	e.deny(t, e.key("a"), l, 1, 0)
	e.deny(t, e.key("b"), l, 1, 0)
}
