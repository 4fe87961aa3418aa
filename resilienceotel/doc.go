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
//	resilience.events               counter     {event}       every event
//	resilience.retry.delay          histogram   s             the wait before each retry (KindRetry)
//	resilience.call.slow.duration   histogram   s             how long each slow call took (KindSlowCall)
//	resilience.breaker.transitions  counter     {transition}  state changes (KindStateChange)
//
// The histograms have buckets from 5ms to 60s.
//
// Every data point carries the attributes policy (the emitting package:
// "retry", "breaker", ...) and name (the policy's configured Name, left out
// when empty). resilience.events adds kind ("retry", "rejected", ...) and
// resilience.breaker.transitions adds from and to ("closed", "open",
// "half-open"). Rejections by an open breaker are therefore the
// resilience.events points with policy="breaker" and kind="rejected".
//
// Names should be few and fixed (one per dependency, say), as every distinct
// name makes its own time series.
package resilienceotel
