package ratelimit

import (
	"context"
	"errors"
	"time"
)

// Limit is a rate limit: Rate tokens per Per, at most Burst at once.
type Limit struct {
	// Rate is how many tokens are added per Per. It must be positive and
	// finite.
	Rate float64
	// Per is the period Rate is counted over. Zero means 1s.
	Per time.Duration // 0: 1s
	// Burst is how many tokens the bucket holds when full: how many calls
	// may pass at once after a quiet spell. Zero means 1.
	Burst int // 0: 1
}

// Decision is a Store's answer to one Take.
type Decision struct {
	// Allowed reports whether the tokens were taken.
	Allowed bool
	// Remaining is how many whole tokens are left after this decision.
	Remaining int // whole tokens left after this decision
	// RetryAfter, when Allowed is false, is the time until n tokens are
	// free; zero when Allowed.
	RetryAfter time.Duration // when !Allowed: until n tokens are free
	// ResetAfter is the time until the bucket is full again.
	ResetAfter time.Duration // until the bucket is full again
}

// Store decides for limits shared by many processes (GCRA: generic cell
// rate algorithm). A limiter whose [Config] has a Store asks it for every
// call instead of keeping a bucket of its own, so every process using the
// same store and key shares one limit.
//
// Every Store decides by the same rule, so that any two agree on any
// sequence of Takes: GCRA with emission interval T = Per/Rate and tolerance
// τ = T·Burst, keeping one theoretical arrival time (TAT) per key (a key
// never seen has TAT = now). A Take of n tokens at time now computes
// tat = max(TAT, now) and newTAT = tat + n·T; it is allowed when
// newTAT − now ≤ τ (the key's TAT becomes newTAT) and denied otherwise
// (the TAT stays), with RetryAfter = newTAT − τ − now. After the decision,
// with tat the key's TAT (or now, when it has passed), ResetAfter is
// tat − now and Remaining is ⌊(τ − (tat − now)) / T⌋, never below zero.
// A fresh key so admits Burst tokens at once, then one every T. Times are
// counted in nanoseconds: a TAT is kept rounded to the nearest nanosecond
// (so a T far below a nanosecond admits every Take), comparisons allow a
// nanosecond of that rounding (at most T/2 when T is under 2ns), and a
// store on a coarser clock rounds its own time, not T. An interval T above
// 10^30 ns, longer than any Duration, is taken as 10^30 ns so that nothing
// overflows; durations beyond math.MaxInt64 saturate, and Remaining is at
// most Burst. A key whose TAT has passed is the same as a key never seen:
// a Store may forget it.
//
// Implementations are safe for concurrent use.
type Store interface {
	// Take takes n tokens (n >= 1) of the limit l kept under key when they
	// are free now, and reports what it decided. A denied Take changes
	// nothing: the tokens a refusal asked for are not spent, so a caller
	// may ask again after RetryAfter.
	//
	// A key that is empty or longer than [MaxKeyLen] bytes gives an error
	// matching [ErrInvalidKey]; a Limit that [Config.Validate] would reject
	// (Rate not positive and finite, negative Per or Burst), n < 1, or n
	// above the Burst (never allowed) gives an error. A Store that cannot decide (its backend is
	// down, ctx ended) returns an error and a zero Decision: the limiter
	// then refuses the call (it fails closed). A Store that prefers to
	// degrade (redisstore decides locally when Redis fails) decides some
	// other way and returns no error; it documents how.
	Take(ctx context.Context, key string, l Limit, n int) (Decision, error)
}

// MaxKeyLen is the longest key, in bytes, every Store accepts. A longer key
// gives an error matching [ErrInvalidKey] from every Store.
const MaxKeyLen = 1024

// ErrInvalidKey is matched by the error of a Take whose key is empty or
// longer than the store allows (for every store, longer than [MaxKeyLen]),
// and by the error Keyed returns for such a key.
var ErrInvalidKey = errors.New("ratelimit: invalid key") // empty, or longer than the store allows
