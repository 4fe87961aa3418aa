package idempotency

import "errors"

// Final marks err as the operation's final outcome: [Do] records it and
// replays it to every later call with the same key, instead of releasing the
// key so that a retry runs the operation again (what happens to an ordinary
// error). Use it for errors that another run would repeat: a declined card,
// an invalid request. Final(nil) is nil.
//
// A Final error is also permanent (resilience.IsPermanent reports true): a
// retry policy stops on it. The converse does not hold: an error marked
// resilience.Permanent ("do not send again", as a transport failure of a
// request that cannot be repeated is) is not recorded. Never mark a
// transport failure Final: nothing says the operation ran.
func Final(err error) error {
	if err == nil {
		return nil
	}
	return &finalError{err}
}

// IsFinal reports whether some error in err's tree has a method Final() bool
// that returns true, as errors marked with [Final] and replayed outcomes
// ([*RecordedError]) do.
func IsFinal(err error) bool {
	var f interface{ Final() bool }
	return errors.As(err, &f) && f.Final()
}

type finalError struct{ err error }

func (e *finalError) Error() string   { return e.err.Error() }
func (e *finalError) Unwrap() error   { return e.err }
func (e *finalError) Final() bool     { return true }
func (e *finalError) Permanent() bool { return true }

// RecordedError is the error a replay returns when the first run ended with
// a final error. Error values cannot be stored, so it carries the original
// error's message only; it is itself final and permanent.
type RecordedError struct {
	Message string
}

// Error returns the original error's message.
func (e *RecordedError) Error() string { return e.Message }

// Final reports true: a recorded outcome never changes.
func (e *RecordedError) Final() bool { return true }

// Permanent reports true: retrying a recorded outcome replays it again.
func (e *RecordedError) Permanent() bool { return true }
