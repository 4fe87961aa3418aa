package resiliencehttp

import (
	"errors"
	"fmt"
	"time"

	"github.com/magicmagnets/resilience"
)

// ErrBodyNotRewindable matches the error returned when a request that would
// have been retried was sent once only because its body cannot be sent
// again: it has a Body but no GetBody. http.NewRequest sets GetBody for
// bodies from bytes.Buffer, bytes.Reader and strings.Reader; set it yourself
// for other bodies that can be recreated. The failure itself stays reachable
// with errors.Is and errors.As.
var ErrBodyNotRewindable = errors.New("resiliencehttp: request body cannot be rewound")

// ErrNotRepeatable matches the error an attempt returns, without sending
// anything, when a policy starts it after a request that cannot be sent
// twice (a POST without an Idempotency-Key, a body without GetBody) was
// already sent once. The Transport marks the first failure of such a
// request resilience.Permanent, so retry policies, nested or not, stop on
// it; this refusal is the guard for any policy that runs the operation
// again anyway. The error is marked resilience.Permanent too, matches
// resilience.ErrRejected (nothing was sent, so a breaker does not count
// it), and keeps the failure that came before it reachable with errors.Is
// and errors.As.
var ErrNotRepeatable = errors.New("resiliencehttp: request cannot be sent again")

// notRepeated is the refusal of an attempt after the one send a request
// that cannot be repeated is allowed; before is the previous attempt's
// failure, or nil.
type notRepeated struct{ before error }

func (e *notRepeated) Error() string {
	if e.before == nil {
		return ErrNotRepeatable.Error()
	}
	return ErrNotRepeatable.Error() + ", it failed once: " + e.before.Error()
}

func (e *notRepeated) Unwrap() []error {
	if e.before == nil {
		return []error{ErrNotRepeatable, resilience.ErrRejected}
	}
	return []error{ErrNotRepeatable, resilience.ErrRejected, e.before}
}

// Permanent reports true: the request is never sent again.
func (e *notRepeated) Permanent() bool { return true }

// StatusError is the failure an attempt reports to the policy when the
// response has a retryable status. Its RetryAfter is the response's
// Retry-After delay, which a retry policy uses as the next wait.
//
// The caller sees a StatusError only when Config.ErrorOnExhausted is set;
// otherwise the last such response itself is returned.
type StatusError struct {
	StatusCode int           // the response's status code, such as 503
	Status     string        // the response's status line, such as "503 Service Unavailable"
	Wait       time.Duration // the Retry-After delay; zero when the response had none
}

// Error describes the response status and its Retry-After delay, if any.
func (e *StatusError) Error() string {
	if e.Wait > 0 {
		return fmt.Sprintf("resiliencehttp: %s (Retry-After %v)", e.Status, e.Wait)
	}
	return "resiliencehttp: " + e.Status
}

// RetryAfter returns the delay the server asked for, or zero.
func (e *StatusError) RetryAfter() time.Duration { return e.Wait }

// errLate is returned to a policy that calls the operation again after
// RoundTrip returned; nothing is sent.
var errLate = errors.New("resiliencehttp: attempt started after the round trip returned")

// errNoResponse is returned when the policy reported success without a
// successful attempt (a policy that swallows errors, say).
var errNoResponse = errors.New("resiliencehttp: policy succeeded without a response")
