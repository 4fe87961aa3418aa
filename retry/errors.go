package retry

import (
	"errors"
	"fmt"
)

var (
	// ErrExhausted matches the error returned when attempts or MaxElapsed
	// ran out. errors.As with *ExhaustedError gives the details.
	ErrExhausted = errors.New("retry: attempts exhausted")

	// ErrBudgetExhausted matches the error returned when a [Budget] denied a
	// retry. The last attempt's error stays reachable with errors.Is.
	ErrBudgetExhausted = errors.New("retry: budget exhausted")
)

// ExhaustedError is returned when the policy gave up because attempts or
// MaxElapsed ran out. It matches [ErrExhausted], and errors.Is and errors.As
// see through it to Last.
type ExhaustedError struct {
	Attempts int   // attempts made
	Last     error // the last attempt's error
}

// Error describes the attempts made and the last error.
func (e *ExhaustedError) Error() string {
	return fmt.Sprintf("retry: gave up after %d attempts: %v", e.Attempts, e.Last)
}

// Is reports whether target is ErrExhausted.
func (e *ExhaustedError) Is(target error) bool { return target == ErrExhausted }

// Unwrap returns the last attempt's error.
func (e *ExhaustedError) Unwrap() error { return e.Last }

// Permanent marks err as not worth retrying: a retry policy returns err at
// once, without the marker. Permanent(nil) is nil. errors.Is and errors.As
// see through the marker, so a breaker still counts the failure.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// IsPermanent reports whether err, or an error it wraps, was marked with
// [Permanent] or has a method Permanent() bool that returns true (as
// idempotency.Permanent errors and replayed permanent results do). A retry
// policy returns such errors at once.
func IsPermanent(err error) bool {
	return ownPermanent(err) != nil || markedPermanent(err)
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent reports true: idempotency.Do and other code that looks for a
// Permanent() bool method treat the error as permanent too.
func (e *permanentError) Permanent() bool { return true }

// budgetError matches ErrBudgetExhausted and unwraps to the last error.
type budgetError struct{ last error }

func (e *budgetError) Error() string {
	return fmt.Sprintf("retry: budget exhausted: %v", e.last)
}
func (e *budgetError) Unwrap() []error { return []error{ErrBudgetExhausted, e.last} }

// waitError is returned when the caller's context ended after a failed
// attempt: it matches both the context's error and the last error.
type waitError struct {
	ctx     error
	last    error
	attempt int
}

func (e *waitError) Error() string {
	return fmt.Sprintf("retry: %v after attempt %d: %v", e.ctx, e.attempt, e.last)
}
func (e *waitError) Unwrap() []error { return []error{e.ctx, e.last} }
