package adaptive

import "github.com/magicmagnets/resilience"

// ErrLimited is matched (with errors.Is) by every refusal of a [Limiter]:
// its concurrency limit was reached. It also matches
// [resilience.ErrRejected], so a breaker around the limiter does not count a
// refusal as a failure of the dependency, and an HTTP server answers it
// with 503 Service Unavailable (it is a lack of capacity, not a rate limit:
// the refusal has no RateLimited method). It carries no RetryAfter hint:
// a limiter cannot tell when a call will finish.
var ErrLimited error = &rejection{"adaptive: concurrency limit reached"}

// ErrThrottled is matched (with errors.Is) by every local refusal of a
// [Throttler]. It also matches [resilience.ErrRejected] and carries no
// RetryAfter hint.
var ErrThrottled error = &rejection{"adaptive: throttled"}

// rejection is the type of ErrLimited and ErrThrottled: preallocated, so a
// refusal allocates nothing.
type rejection struct{ msg string }

func (e *rejection) Error() string { return e.msg }

// Unwrap returns resilience.ErrRejected.
func (e *rejection) Unwrap() error { return resilience.ErrRejected }
