package breaker

import (
	"errors"
	"time"
)

// ErrOpen is matched (with errors.Is) by every error a breaker returns for a
// call it rejected, open or half-open with every probe slot taken.
//
// The rejection error also has a method RetryAfter() time.Duration: the
// time until the breaker will admit a probe, so that a call made exactly that
// long later is admitted. It is 0 when there is no such time to tell: the
// breaker is half-open with all probe slots taken, or forced open. The retry
// package honours the hint.
var ErrOpen = errors.New("breaker: circuit open")

// openError is the rejection error. One is allocated per open period, when
// the breaker trips, so that rejecting a call allocates nothing: it keeps the
// absolute end of the period and computes RetryAfter when asked.
//
// Rejections compare end with time.Since(epoch), which reads only the
// monotonic clock, rather than until with time.Now, which reads the wall
// clock too and costs twice as much (most of a rejection's time).
type openError struct {
	until   time.Time     // the instant a probe may be admitted; zero when unknown
	end     time.Duration // until, as time since the breaker's epoch
	untimed bool          // rejects regardless of the time, until the breaker changes
}

// Rejections that carry no deadline. Breaker.open holds them, like a timed
// rejection, while the breaker is forced open or half-open with every probe
// slot taken, so that those rejections take no lock and read no clock.
var (
	errForcedOpen = &openError{untimed: true}
	errProbesBusy = &openError{untimed: true}
)

func (e *openError) Error() string { return ErrOpen.Error() }

func (e *openError) Unwrap() error { return ErrOpen }

// RetryAfter returns the time until the breaker admits a probe, or 0 when it
// cannot tell.
func (e *openError) RetryAfter() time.Duration {
	if e.until.IsZero() {
		return 0
	}
	return max(time.Until(e.until), 0)
}
