package storetest

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/magicmagnets/resilience/ratelimit"
)

func oddKeys(t *testing.T, e *env) {
	base := e.key("")
	keys := []string{
		base + "a",
		base + "a ",
		base + "a b",
		base + " a",
		base + "a\x00",
		base + "a\x00b",
		base + "\xff\xfe\x00\x01", // not UTF-8
		base + "ключ-键-🔑",
		base + "a:b",
		base + "a:b:",
		base + ":",
		base + "{a}",
		base + "{a}b",
		base + "{",
		base + "}",
		base + "{}",
		base + "%s%d\\n",
		base + "a\r\nb", // a line break inside a protocol frame
		base + strings.Repeat("\x00", ratelimit.MaxKeyLen-len(base)),
		base + strings.Repeat("\x00", ratelimit.MaxKeyLen-len(base)-1) + "\x01",
	}
	l := every(time.Hour, 1)
	for _, key := range keys {
		e.allow(t, key, l, 1, 0)
	}
	for _, key := range keys {
		e.deny(t, key, l, 1, 0)
	}
}

func invalidKeys(t *testing.T, e *env) {
	long := e.key(strings.Repeat("x", ratelimit.MaxKeyLen+1-len(e.key(""))))
	l := every(time.Hour, 1)
	for _, key := range []string{"", long, long + "x"} {
		d, err := e.s.Take(t.Context(), key, l, 1)
		assert.ErrorIs(t, err, ratelimit.ErrInvalidKey, "a %d-byte key", len(key))
		assert.Zero(t, d)
	}
	// The longest key is valid, and the rejected one did not spend its
	// prefix's token.
	e.allow(t, long[:ratelimit.MaxKeyLen], l, 1, 0)
}

func invalidLimits(t *testing.T, e *env) {
	key, l := e.key("k"), every(time.Hour, 3)
	e.allow(t, key, l, 1, 2)
	bad := []struct {
		l ratelimit.Limit
		n int
	}{
		{ratelimit.Limit{Rate: 0, Per: time.Hour, Burst: 3}, 1},
		{ratelimit.Limit{Rate: -1, Per: time.Hour, Burst: 3}, 1},
		{ratelimit.Limit{Rate: math.NaN(), Per: time.Hour, Burst: 3}, 1},
		{ratelimit.Limit{Rate: math.Inf(1), Per: time.Hour, Burst: 3}, 1},
		{ratelimit.Limit{Rate: math.Inf(-1), Per: time.Hour, Burst: 3}, 1},
		{ratelimit.Limit{Rate: 1, Per: -time.Hour, Burst: 3}, 1},
		{ratelimit.Limit{Rate: 1, Per: math.MinInt64, Burst: 3}, 1},
		{ratelimit.Limit{Rate: 1, Per: time.Hour, Burst: -1}, 1},
		{ratelimit.Limit{Rate: 1, Per: time.Hour, Burst: math.MinInt}, 1},
		{l, 0},
		{l, -1},
		{l, math.MinInt},
	}
	for _, b := range bad {
		d, err := e.s.Take(t.Context(), key, b.l, b.n)
		assert.Error(t, err, "take %d of %+v", b.n, b.l)
		assert.Zero(t, d)
	}
	e.allow(t, key, l, 1, 1) // nothing was spent
}

func endedContext(t *testing.T, e *env) {
	key, l := e.key("k"), every(time.Hour, 2)
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	d, err := e.s.Take(cancelled, key, l, 1)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, d)
	expired, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	d, err = e.s.Take(expired, key, l, 1)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Zero(t, d)
	e.allow(t, key, l, 2, 0) // nothing was spent
}

func extremeLimits(t *testing.T, e *env) {
	const forever = time.Duration(math.MaxInt64)
	// One token in about 3e11 years: once spent, it never comes back
	// within a Duration.
	key, l := e.key("slow"), ratelimit.Limit{Rate: 1e-9, Per: forever}
	d := e.allow(t, key, l, 1, 0)
	assert.Equal(t, forever, d.ResetAfter, "ResetAfter saturates")
	d = e.deny(t, key, l, 1, 0)
	assert.Equal(t, forever, d.RetryAfter, "RetryAfter saturates")
	assert.Equal(t, forever, d.ResetAfter)

	// An emission interval beyond float64's range (Per/Rate overflows).
	key, l = e.key("slowest"), ratelimit.Limit{Rate: math.SmallestNonzeroFloat64, Per: forever}
	e.allow(t, key, l, 1, 0)
	d = e.deny(t, key, l, 1, 0)
	assert.Equal(t, forever, d.RetryAfter)

	// The longest period with a large burst: the whole burst at once, then
	// nothing for an interval of math.MaxInt64. The TAT is then about 1e25
	// nanoseconds away, which a float64 keeps to about a second: hence
	// the relative tolerance.
	key, l = e.key("huge-burst"), ratelimit.Limit{Rate: 1, Per: forever, Burst: 1 << 20}
	d = e.allow(t, key, l, 1<<20, 0)
	assert.Equal(t, forever, d.ResetAfter)
	d = e.deny(t, key, l, 1, 0)
	assert.InEpsilon(t, float64(forever), float64(d.RetryAfter), 1e-9, "RetryAfter: one interval of math.MaxInt64")

	// The largest burst taken whole: no overflow, Remaining in range.
	key, l = e.key("largest-burst"), ratelimit.Limit{Rate: 1, Per: forever, Burst: math.MaxInt}
	d = e.take(t, key, l, math.MaxInt)
	assert.True(t, d.Allowed, "%+v", d)
	assert.Equal(t, forever, d.ResetAfter)
	assert.GreaterOrEqual(t, d.Remaining, 0)

	// A rate so high that the emission interval is far below a
	// nanosecond: every take is allowed, and Remaining stays in range.
	key, l = e.key("fast"), ratelimit.Limit{Rate: 1e300, Per: time.Nanosecond, Burst: 5}
	for range 10 {
		d = e.take(t, key, l, 5)
		assert.True(t, d.Allowed, "%+v", d)
		assert.GreaterOrEqual(t, d.Remaining, 0)
		assert.LessOrEqual(t, d.Remaining, 5)
		assert.GreaterOrEqual(t, d.ResetAfter, time.Duration(0))
		assert.LessOrEqual(t, d.ResetAfter, time.Nanosecond)
	}
	key, l = e.key("fastest"), ratelimit.Limit{Rate: math.MaxFloat64, Per: forever, Burst: math.MaxInt}
	d = e.take(t, key, l, math.MaxInt)
	assert.True(t, d.Allowed, "%+v", d)
	assert.GreaterOrEqual(t, d.Remaining, 0)
}
