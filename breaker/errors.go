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
//   - half-open with every probe slot taken: about as long again as the
//     oldest probe in flight has taken so far, but at least Config.OpenFor/50
//     (100ms at the default 5s), and never past the instant that probe's
//     slot frees (a probe holds its slot for at most OpenFor). Callers turned
//     away while a probe runs come back at intervals that grow with it,
//     instead of all at once when its slot frees: a probe that answers
//     quickly closes the breaker before most of them return, and one that
//     hangs sees them back at 2×, 4×, … its age, up to OpenFor. Read when
//     the call is rejected, the hint is > 0;
//   - forced open ([Breaker.ForceOpen]): 0, since there is no time to tell.
var ErrOpen error = &sentinel{"breaker: circuit open"}

// sentinel is the type of ErrOpen: an error that matches
// resilience.ErrRejected.
type sentinel struct{ msg string }

func (e *sentinel) Error() string { return e.msg }

func (e *sentinel) Unwrap() error { return resilience.ErrRejected }

// openError is the rejection error. One is allocated per open period, when
// the breaker trips, and one each time the probe slots of a half-open breaker
// fill up, so that rejecting a call allocates nothing: it keeps absolute
// instants and computes RetryAfter from them when asked, so a kept error's
// hint stays true as time passes.
//
// Rejections compare end with time.Since(epoch), which reads only the
// monotonic clock, rather than until with time.Now, which reads the wall
// clock too and costs twice as much (most of a rejection's time).
type openError struct {
	until    time.Time     // the instant a call may be admitted; zero when unknown
	end      time.Duration // until, as time since the breaker's epoch
	untimed  bool          // rejects regardless of the time, until the breaker changes
	halfOpen bool          // rejects for want of a free probe slot while half-open
	probe    time.Time     // while half-open: when the oldest probe in flight was admitted
}

// errForcedOpen is the rejection of a forced-open breaker. Breaker.open holds
// it, like a timed rejection, so that those rejections take no lock and read
// no clock.
var errForcedOpen = &openError{untimed: true}

func (e *openError) Error() string { return ErrOpen.Error() }

func (e *openError) Unwrap() error { return ErrOpen }

// RetryAfter returns how long to wait before calling again (see [ErrOpen]),
// or 0 when the breaker cannot tell.
func (e *openError) RetryAfter() time.Duration {
	if e.until.IsZero() {
		return 0
	}
	return e.retryAfter(time.Now())
}

// retryAfter is RetryAfter at now, for an error with a known until: the
// time left until then, and while half-open no more than the oldest probe's
// age, or the floor of a fiftieth of the time a probe holds its slot
// (OpenFor, which is until minus the probe's admission; at least 1ns, so
// that a rejection's hint is never 0).
func (e *openError) retryAfter(now time.Time) time.Duration {
	left := max(e.until.Sub(now), 0)
	if !e.halfOpen {
		return left
	}
	floor := max(e.until.Sub(e.probe)/halfOpenHintDivisor, time.Nanosecond)
	return min(left, max(now.Sub(e.probe), floor))
}

// halfOpenHintDivisor sets the least hint while half-open, OpenFor divided
// by it: 100ms at the default OpenFor of 5s.
const halfOpenHintDivisor = 50
