package retry

import (
	"errors"
	"fmt"
	"time"
)

var (
	// ErrExhausted matches the error returned when attempts or MaxElapsed
	// ran out. errors.As with *ExhaustedError gives the details.
	ErrExhausted = errors.New("retry: attempts exhausted")

	// ErrBudgetExhausted matches the error returned when a [Budget] denied a
	// retry. The last attempt's error stays reachable with errors.Is.
	ErrBudgetExhausted = errors.New("retry: budget exhausted")
)

// ExhaustedError is returned when the policy gave up because attempts ran
// out, or because the next wait would have ended after MaxElapsed or the
// context's deadline. It matches [ErrExhausted], and errors.Is and errors.As
// see through it to Last.
type ExhaustedError struct {
	Attempts int           // attempts made
	Last     error         // the last attempt's error
	Delay    time.Duration // the wait not started for lack of time; 0 when MaxAttempts ran out

	after string // what the wait would have ended after, for the message
}

// Error describes the attempts made, why no more were made and the last
// error.
func (e *ExhaustedError) Error() string {
	if e.after != "" {
		return fmt.Sprintf("retry: gave up after %d attempts: the next wait, %v, would end after %s: %v", e.Attempts, e.Delay, e.after, e.Last)
	}
	return fmt.Sprintf("retry: gave up after %d attempts: %v", e.Attempts, e.Last)
}

// Is reports whether target is ErrExhausted.
func (e *ExhaustedError) Is(target error) bool { return target == ErrExhausted }

// Unwrap returns the last attempt's error.
func (e *ExhaustedError) Unwrap() error { return e.Last }

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
