package ratelimit

import (
	"errors"
	"time"

	"github.com/magicmagnets/resilience"
)

// ErrLimited is matched (errors.Is) by every refusal of a rate limit. The
// refusal also matches [resilience.ErrRejected] and carries, through
// resilience.RetryAfter, the time until a token is free.
var ErrLimited = errors.New("ratelimit: rate limit reached")

// LimitedError is the error a limiter refuses a call with.
type LimitedError struct {
	// Wait is the time until the limit would admit the call, as far as the
	// limiter knows; zero when it cannot tell.
	Wait time.Duration
	// Err is the cause when the limiter could not decide (a [Store] that
	// failed), nil otherwise.
	Err error
}

// Error describes the refusal.
func (e *LimitedError) Error() string {
	if e.Err != nil {
		return ErrLimited.Error() + ": " + e.Err.Error()
	}
	return ErrLimited.Error()
}

// Is reports whether target is ErrLimited or resilience.ErrRejected.
func (e *LimitedError) Is(target error) bool {
	return target == ErrLimited || target == resilience.ErrRejected
}

// Unwrap returns the cause, if any.
func (e *LimitedError) Unwrap() error { return e.Err }

// RetryAfter returns Wait: how long until the limit admits a call.
func (e *LimitedError) RetryAfter() time.Duration { return e.Wait }

// RateLimited reports true: a server answers this refusal with 429 Too
// Many Requests rather than 503.
func (e *LimitedError) RateLimited() bool { return true }
