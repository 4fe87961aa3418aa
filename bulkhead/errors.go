package bulkhead

import "github.com/magicmagnets/resilience"

// ErrFull is matched (with errors.Is) by every refusal of a bulkhead: no
// slot was free and the queue was full or absent, or a queued caller waited
// Config.MaxWait without getting one. ErrFull and every refusal also match
// [resilience.ErrRejected], so a breaker around the bulkhead does not count
// a refusal as a failure of the dependency, and an HTTP server answers it
// with 503.
//
// A refusal carries no RetryAfter hint: a bulkhead cannot know when a slot
// will free.
var ErrFull error = &fullError{"bulkhead: full"}

// errWaited is the refusal of a queued caller that waited MaxWait.
var errWaited error = &fullError{"bulkhead: full: no slot within MaxWait"}

// fullError is the type of every refusal. The refusals are preallocated,
// so refusing a call allocates nothing.
type fullError struct{ msg string }

func (e *fullError) Error() string { return e.msg }

// Is reports whether target is ErrFull or resilience.ErrRejected.
func (e *fullError) Is(target error) bool {
	return target == ErrFull || target == resilience.ErrRejected
}
