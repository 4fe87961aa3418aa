// Package breaker is a circuit breaker: it stops calling a dependency that
// keeps failing, so that the dependency can recover and callers fail fast
// instead of waiting on it.
//
//	b := breaker.New(breaker.Config{})
//	err := b.Do(ctx, func(ctx context.Context) error { return callPayments(ctx) })
//	if errors.Is(err, breaker.ErrOpen) {
//		// rejected without calling; try later or serve a fallback
//	}
//
// A [Breaker] is Closed at first: it admits every call and records the
// outcome in a sliding window, either of the last WindowSize calls or of the
// calls that finished in the last Window (in 10 buckets). Once the window holds
// MinCalls calls and failures reach FailureRate of them, or slow calls
// (longer than SlowCallDuration, failed or not) reach SlowCallRate, or
// ConsecutiveFailures calls failed in a row, it trips Open.
//
// An Open breaker rejects every call with an error matching [ErrOpen] whose
// RetryAfter() tells when a probe may be made; a call made exactly then is
// admitted. Once OpenFor has elapsed the breaker is HalfOpen — lazily, on the
// next call, with no timer or goroutine — and admits up to HalfOpenProbes
// concurrent probes. When all of them succeed it closes with a fresh window;
// when one fails, or (with SlowCallDuration set) SlowCallRate of them were
// slow, it opens again, for twice as long as before, up to MaxOpenFor. A
// close sets the open time back to OpenFor.
//
// Each state change starts a new generation: the result of a call admitted
// in an earlier one is ignored, so a slow call admitted while closed cannot
// close or reopen a half-open breaker.
//
// What counts as a failure: every error except the caller's own
// cancellation, unless Config.IsFailure says otherwise. A call that panics
// is a failure (and frees its probe slot); the panic goes on. A caller that
// gives up says nothing about the dependency, so its cancellation is not
// recorded at all. Errors from retry.Permanent are failures like any other.
//
// [Breaker.ForceOpen], [Breaker.Disable] and [Breaker.Reset] override the
// rules by hand; [Breaker.State] and [Breaker.Metrics] report on it.
//
// Events (resilience.Event with Policy "breaker"): KindStateChange with From
// and To (the states' String values); KindRejected with Err (the rejection)
// and Delay (its RetryAfter); KindSlowCall with Delay (the call's duration).
// They are delivered outside any lock, so an observer may call back into
// the breaker.
//
// With a count window and no slow-call timing (the default), a call reads
// the clock only when the breaker is open, and a success recorded while the
// window holds nothing but successes takes no lock. Neither Do nor the
// two-step [Breaker.Allow] allocates.
package breaker
