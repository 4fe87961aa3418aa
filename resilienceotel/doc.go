// Package resilienceotel records the events of resilience policies as
// OpenTelemetry metrics.
//
// An [Observer] is a resilience.Observer: put it in the Observer field of any
// policy's Config (several policies may share one) and every event becomes a
// data point on the meter it was made from:
//
//	meter := provider.Meter(resilienceotel.ScopeName)
//	obs, err := resilienceotel.New(meter)
//	if err != nil {
//		return err
//	}
//	b := breaker.New(breaker.Config{Name: "payments", Observer: obs})
//	r := retry.New(retry.Config{Name: "payments", Observer: obs})
//
// The instruments, named in the style of the OpenTelemetry semantic
// conventions:
//
//	name                            instrument  unit          records
//	resilience.call.duration        histogram   s             how long each call of a policy took (KindCall)
//	resilience.events               counter     {event}       every other event
//	resilience.retry.delay          histogram   s             the wait before each retry (KindRetry)
//	resilience.call.slow.duration   histogram   s             how long each slow call took (KindSlowCall)
//	resilience.timeout.duration     histogram   s             the time a call that timed out was allowed (KindTimeout)
//	resilience.breaker.transitions  counter     {transition}  state changes (KindStateChange)
//	resilience.call.attempts        histogram   {attempt}     how many attempts each call of a retry policy made (KindCall's Attempt)
//
// and, for the policies given to [Observer.Register], observable
// instruments read at every collection, from the moment they are
// registered, before any event:
//
//	name                            instrument      unit    reports
//	resilience.breaker.state        gauge           1       1 for a breaker's state, 0 for the other two (attribute state)
//	resilience.limit.in_flight      updown counter  {call}  calls a bulkhead or adaptive limiter holds now
//	resilience.limit.limit          gauge           {call}  calls it admits at once
//
// resilience.call.duration has buckets from 1ms to 60s, the other duration
// histograms from 5ms to 60s, resilience.call.attempts 1, 2, 3, 4, 5 and 10.
// The count of resilience.call.duration is the number of calls, so it gives request rates, success
// rates and latency percentiles per policy; calls are not counted again on
// resilience.events. Every policy emits its own calls, so in a chain such
// as Chain(retry, breaker, timeout) the retry's points are the durations of
// whole calls and the breaker's (or the per-attempt timeout's) those of
// each attempt, told apart by the policy attribute.
//
// Every data point carries the attributes policy (the emitting package:
// "retry", "breaker", ...) and name (the policy's configured Name, left out
// when empty). resilience.call.duration adds outcome: "success" (the call
// returned nil), "rejected" (its error matches resilience.ErrRejected: an
// open breaker, a full bulkhead, a rate limit) or "failure" (any other
// error, the caller's own cancellation included). resilience.events adds
// kind ("retry", "rejected", ...) and resilience.breaker.transitions adds
// from and to ("closed", "open", "half-open"). Rejections by an open
// breaker are therefore the resilience.events points with policy="breaker"
// and kind="rejected", and the breaker's resilience.call.duration points
// with outcome="rejected". resilience.call.attempts has the attributes of
// resilience.call.duration.
//
// Names should be few and fixed (one per dependency, say), as every distinct
// name makes its own time series.
package resilienceotel
