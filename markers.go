package resilience

import (
	"errors"
	"time"
)

// ErrRejected is matched by every local rejection: a call that a policy
// refused without running it because of its own state (an open breaker, a
// full bulkhead, a rate or adaptive limit). Such an error says nothing about
// the dependency's health, so a breaker does not count it as a failure, and
// it usually carries a [RetryAfter] hint.
var ErrRejected = errors.New("resilience: rejected")

// Permanent marks err as not worth retrying: a retry policy returns it at
// once, and the mark survives nesting (an outer retry around an inner one
// stops too). errors.Is and errors.As see through the mark, so a breaker
// still counts the failure. Permanent(nil) is nil.
//
// Permanent means "do not send again", nothing more: an idempotency store
// does not record a Permanent error as the operation's outcome (that is
// idempotency.Final).
func Permanent(err error) error {
	if err == nil || IsPermanent(err) {
		return err
	}
	return &permanentError{err}
}

// IsPermanent reports whether the first error in err's tree (in errors.As
// order) that has a method Permanent() bool returns true, as errors marked
// with [Permanent] do. It allocates nothing unless an error in the tree has
// an As method.
func IsPermanent(err error) bool {
	f, as := find(err, hasPermanent)
	if as {
		var m interface{ Permanent() bool }
		return errors.As(err, &m) && m.Permanent()
	}
	return f != nil && f.(interface{ Permanent() bool }).Permanent()
}

type permanentError struct{ err error }

func (e *permanentError) Error() string   { return e.err.Error() }
func (e *permanentError) Unwrap() error   { return e.err }
func (e *permanentError) Permanent() bool { return true }

// RetryAfter returns the delay hint of the first error in err's tree (in
// errors.As order) that has a method RetryAfter() time.Duration: an open
// breaker's time until half-open, a server's Retry-After. ok is false when
// no error carries one. It allocates nothing unless an error in the tree
// has an As method.
func RetryAfter(err error) (d time.Duration, ok bool) {
	f, as := find(err, hasHint)
	if as {
		var h interface{ RetryAfter() time.Duration }
		if !errors.As(err, &h) {
			return 0, false
		}
		return h.RetryAfter(), true
	}
	if f == nil {
		return 0, false
	}
	return f.(interface{ RetryAfter() time.Duration }).RetryAfter(), true
}
