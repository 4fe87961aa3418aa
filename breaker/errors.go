package breaker

import (
	"time"

	"github.com/magicmagnets/resilience"
)

// ErrOpen is matched (with errors.Is) by every error a breaker returns for a
// call it rejected: open, forced open, or half-open with every probe slot
// taken. ErrOpen itself matches [resilience.ErrRejected], and so does every
// rejection, so code that handles any local rejection (a full bulkhead, a
// rate limit) handles an open breaker too.
//
// The rejection error also has a method RetryAfter() time.Duration, which
// [resilience.RetryAfter] reads and the retry package honours:
//   - open: the time until the breaker admits a probe, so that a call made
//     exactly that long later is admitted;
//   - half-open with every probe slot taken: the time until the oldest probe's
//     slot frees (a probe holds its slot for at most Config.OpenFor), so that
//     a call made then is admitted unless the probes have reopened the breaker
//     meanwhile (probes that return sooner may also close it sooner);
//   - forced open ([Breaker.ForceOpen]): 0, since there is no time to tell.
var ErrOpen error = &sentinel{"breaker: circuit open"}

// sentinel is the type of ErrOpen: an error that matches
// resilience.ErrRejected.
type sentinel struct{ msg string }

func (e *sentinel) Error() string { return e.msg }

func (e *sentinel) Unwrap() error { return resilience.ErrRejected }

// openError is the rejection error. One is allocated per open period, when
// the breaker trips, and one each time the probe slots of a half-open breaker
// fill up, so that rejecting a call allocates nothing: it keeps the absolute
// instant a call will be admitted and computes RetryAfter when asked.
//
// Rejections compare end with time.Since(epoch), which reads only the
// monotonic clock, rather than until with time.Now, which reads the wall
// clock too and costs twice as much (most of a rejection's time).
type openError struct {
	until    time.Time     // the instant a call may be admitted; zero when unknown
	end      time.Duration // until, as time since the breaker's epoch
	untimed  bool          // rejects regardless of the time, until the breaker changes
	halfOpen bool          // rejects for want of a free probe slot while half-open
}

// errForcedOpen is the rejection of a forced-open breaker. Breaker.open holds
// it, like a timed rejection, so that those rejections take no lock and read
// no clock.
var errForcedOpen = &openError{untimed: true}

func (e *openError) Error() string { return ErrOpen.Error() }

func (e *openError) Unwrap() error { return ErrOpen }

// RetryAfter returns the time until the breaker admits a call, or 0 when it
// cannot tell.
func (e *openError) RetryAfter() time.Duration {
	if e.until.IsZero() {
		return 0
	}
	return max(time.Until(e.until), 0)
}
