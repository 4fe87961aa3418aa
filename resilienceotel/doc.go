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
//
// resilience.call.duration has buckets from 1ms to 60s, the other
// histograms from 5ms to 60s. Its count is the number of calls, so it gives
// request rates, success rates and latency percentiles per policy; calls
// are not counted again on resilience.events.
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
// with outcome="rejected".
//
// Names should be few and fixed (one per dependency, say), as every distinct
// name makes its own time series.
package resilienceotel
