// Package breaker is a circuit breaker: it stops calling a dependency that
// keeps failing, so that the dependency can recover and callers fail fast
// instead of waiting on it.
//
//	b := breaker.New(breaker.Config{})
//	err := b.Do(ctx, func(ctx context.Context) error { return callPayments(ctx) })
//	if errors.Is(err, breaker.ErrOpen) {
//		// rejected without calling: try again after resilience.RetryAfter(err),
//		// or serve a fallback
//	}
//
// A [Breaker] is Closed at first: it admits every call and records the
// outcome in a sliding window, either of the last WindowSize calls or of the
// calls that finished in the last Window (in 10 buckets). Once the window holds
// MinCalls calls and failures reach FailureRate of them, or slow calls
// (longer than SlowCallDuration, failed or not) reach SlowCallRate, or
// ConsecutiveFailures calls failed in a row, it trips Open.
//
// An Open breaker rejects every call with an error matching [ErrOpen] (and
// [resilience.ErrRejected]) whose hint, read with [resilience.RetryAfter],
// tells when a probe may be made; a call made exactly then is admitted. Once OpenFor has elapsed the breaker
// is HalfOpen — lazily, on the next call, with no timer or goroutine — and
// admits up to HalfOpenProbes concurrent probes. When all of them succeed it
// closes with a fresh window; when one fails, or (with SlowCallDuration set)
// SlowCallRate of them were slow, it opens again, for twice as long as
// before, up to MaxOpenFor. A close sets the open time back to OpenFor.
// A probe that has not returned OpenFor after it was admitted gives its slot
// to the next call, so a probe that hangs cannot keep the breaker half-open
// for ever. Callers turned away while every probe slot is taken are told to
// come back after about as long again as the oldest probe has taken so far
// (at least OpenFor/50, at most until its slot frees): their hint tracks the
// probe's latency, so a probe that answers in 50ms does not leave them
// parked for the whole OpenFor, and they do not all return at once.
//
// Each state change starts a new generation: the result of a call admitted
// in an earlier one is ignored, so a slow call admitted while closed cannot
// close or reopen a half-open breaker.
//
// What counts as a failure: every error except those below, unless
// Config.IsFailure says otherwise. A call that panics is a failure (and
// frees its probe slot); the panic goes on. Errors from [resilience.Permanent]
// are failures like any other. Not failures:
//   - the end of the caller's own context, cancelled or past its deadline: a
//     caller that gives up says nothing about the dependency. The call is
//     recorded only if it took longer than SlowCallDuration, as slow.
//     [Permit.Done], which has no context, takes context.Canceled for the
//     caller's own but counts context.DeadlineExceeded as a failure.
//   - errors Config.Ignore matches, which are not recorded at all. By
//     default these are rejections by policies inside the breaker (errors
//     matching [resilience.ErrRejected]: a full bulkhead, a rate limit, an
//     inner breaker), which never reached the dependency.
//
// Since the caller's deadline is not a failure, a dependency that hangs
// until callers give up is not counted by it. Count hangs with a
// per-attempt timeout inside the breaker, as in the recommended chain
// resilience.Chain(fallback, timeout.New(total), retry.New(...),
// breaker.New(...), timeout.New(perAttempt)): the inner timeout's deadline
// is not the caller's, so an attempt it ends is a failure.
//
// [Breaker.ForceOpen], [Breaker.Disable] and [Breaker.Reset] override the
// rules by hand; [Breaker.State] and [Breaker.Metrics] report on it.
//
// Events (resilience.Event with Policy "breaker" and Name Config.Name):
//   - KindCall once per call that returned, admitted or rejected, last of
//     the call's events: Duration is how long it took (from [Breaker.Allow]
//     to [Permit.Done] in the two-step form) and Err what it returned (the
//     rejection, for a rejected call). A call that panics has none;
//   - KindStateChange with From and To (the states' String values);
//   - KindRejected with Err (the rejection) and Delay (its RetryAfter: the
//     wait before calling again);
//   - KindSlowCall with Duration (how long the slow call took).
//
// They are delivered outside any lock, so an observer may call back into
// the breaker. An observer that panics leaves the breaker as it would have
// been without it (every state change made, no probe slot held); the panic
// goes on to the caller whose call emitted the event.
//
// With a count window, no slow-call timing and no Observer (the default), a
// call reads the clock only when the breaker is open, and a success recorded
// while the window holds nothing but successes takes no lock. Neither Do nor
// the two-step [Breaker.Allow] allocates.
package breaker
