package idempotency

import "errors"

// Permanent marks err as the operation's final outcome: [Do] records it and
// replays it to every later call with the same key, instead of releasing the
// key so that a retry runs the operation again (what happens to an ordinary
// error). Use it for errors that another run would repeat: a declined card,
// an invalid request. Permanent(nil) is nil.
//
// Do also treats as permanent any error whose chain holds an error with a
// method Permanent() bool that returns true, so a marker from another
// package (a retry package's, say) can carry the same meaning.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string   { return e.err.Error() }
func (e *permanentError) Unwrap() error   { return e.err }
func (e *permanentError) Permanent() bool { return true }

// isPermanent reports whether err is marked permanent.
func isPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

// RecordedError is the error a replay returns when the first run ended with
// a permanent error. Error values cannot be stored, so it carries the
// original error's message only; it is itself permanent.
type RecordedError struct {
	Message string
}

// Error returns the original error's message.
func (e *RecordedError) Error() string { return e.Message }

// Permanent reports true: a recorded outcome never changes.
func (e *RecordedError) Permanent() bool { return true }
