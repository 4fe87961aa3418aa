package resilienceotel

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/metric"

	"github.com/magicmagnets/resilience"
)

// ScopeName is the instrumentation scope name to make the meter with:
// provider.Meter(ScopeName).
const ScopeName = "github.com/magicmagnets/resilience/resilienceotel"

// ErrNilMeter is returned by [New] when the meter is nil.
var ErrNilMeter = errors.New("resilienceotel: nil meter")

// durationBuckets are the histogram bucket boundaries, in seconds, for retry
// delays, slow calls and timeouts: from 5ms to a minute, so that the default
// 100ms backoff, its 10s cap and the retry policy's 30s maximum delay all
// fall inside.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// callBuckets are the bucket boundaries, in seconds, for call durations:
// from 1ms, for a call answered from memory or a local rejection, to a
// minute.
var callBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// attemptBuckets are the bucket boundaries of the attempts per call: the
// default three attempts and a few more each get their own bucket.
var attemptBuckets = []float64{1, 2, 3, 4, 5, 10}

// outcome is how a call ended, the outcome attribute of
// resilience.call.duration. It is a small number rather than its name so
// that the cache key stays cheap to hash.
type outcome uint8

const (
	outcomeSuccess outcome = iota
	outcomeFailure
	outcomeRejected
)

var outcomeNames = [...]string{outcomeSuccess: "success", outcomeFailure: "failure", outcomeRejected: "rejected"}

func (o outcome) String() string { return outcomeNames[o] }

// Observer is a resilience.Observer that records events as OpenTelemetry
// metrics (see the package doc for the instruments and attributes). It is
// safe for concurrent use and may be shared by any number of policies.
//
// Observe never blocks on I/O: it adds to the meter's instruments, and
// exporting is the meter provider's business. Once the attributes of a
// (policy, name, kind) combination, or of a (policy, name, outcome) one for
// calls, are built they are reused, so recording a known combination
// allocates nothing.
//
// Make one with [New]; the zero value is not usable. A nil *Observer records
// nothing.
type Observer struct {
	calls       metric.Float64Histogram
	events      metric.Int64Counter
	retryDelay  metric.Float64Histogram
	slowCall    metric.Float64Histogram
	timeouts    metric.Float64Histogram
	transitions metric.Int64Counter
	attempts    metric.Int64Histogram
	gauges      *gauges

	// cached maps each combination seen so far to its attributes. Readers
	// load the map without a lock; a new combination is added by copying
	// the map under mu and storing the copy.
	cached atomic.Pointer[map[key]*attrs]
	mu     sync.Mutex
}

// New returns an Observer that records on meter, typically
// provider.Meter(ScopeName). It returns an error if meter is nil or an
// instrument cannot be created.
func New(meter metric.Meter) (*Observer, error) {
	if meter == nil {
		return nil, ErrNilMeter
	}
	calls, err0 := meter.Float64Histogram("resilience.call.duration",
		metric.WithUnit("s"),
		metric.WithDescription("How long each call of a resilience policy took, by outcome: success, failure or rejected."),
		metric.WithExplicitBucketBoundaries(callBuckets...))
	events, err1 := meter.Int64Counter("resilience.events",
		metric.WithUnit("{event}"),
		metric.WithDescription("Events emitted by resilience policies, calls excepted: retries, give-ups, timeouts, rejections, state changes, slow calls, replays and fallbacks."))
	retryDelay, err2 := meter.Float64Histogram("resilience.retry.delay",
		metric.WithUnit("s"),
		metric.WithDescription("The wait before each retry."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	slowCall, err3 := meter.Float64Histogram("resilience.call.slow.duration",
		metric.WithUnit("s"),
		metric.WithDescription("How long each call that a circuit breaker counted as slow took."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	timeouts, err5 := meter.Float64Histogram("resilience.timeout.duration",
		metric.WithUnit("s"),
		metric.WithDescription("How long each call that timed out had been allowed to run."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	transitions, err4 := meter.Int64Counter("resilience.breaker.transitions",
		metric.WithUnit("{transition}"),
		metric.WithDescription("Circuit breaker state changes."))
	attempts, err6 := meter.Int64Histogram("resilience.call.attempts",
		metric.WithUnit("{attempt}"),
		metric.WithDescription("How many attempts each call of a retrying policy made."),
		metric.WithExplicitBucketBoundaries(attemptBuckets...))
	if err := errors.Join(err0, err1, err2, err3, err4, err5, err6); err != nil {
		return nil, fmt.Errorf("resilienceotel: creating instruments: %w", err)
	}
	g, err := newGauges(meter)
	if err != nil {
		return nil, fmt.Errorf("resilienceotel: creating instruments: %w", err)
	}
	o := &Observer{calls: calls, events: events, retryDelay: retryDelay, slowCall: slowCall, timeouts: timeouts, transitions: transitions, attempts: attempts, gauges: g}
	o.cached.Store(&map[key]*attrs{})
	return o, nil
}

// Observe records e. A call (resilience.KindCall) records its Duration on
// resilience.call.duration, with its outcome, and, when it carries its
// number of attempts (a retry policy's calls do), that number on
// resilience.call.attempts. Any other event counts one on
// resilience.events and, depending on its kind, records its Delay on
// resilience.retry.delay (KindRetry), its Duration on
// resilience.call.slow.duration (KindSlowCall) or
// resilience.timeout.duration (KindTimeout), or counts one on
// resilience.breaker.transitions (KindStateChange).
func (o *Observer) Observe(e resilience.Event) {
	if o == nil {
		return
	}
	a := o.attrs(e)
	ctx := context.Background()
	if e.Kind == resilience.KindCall {
		o.calls.Record(ctx, e.Duration.Seconds(), a.record...)
		if e.Attempt > 0 {
			o.attempts.Record(ctx, int64(e.Attempt), a.record...)
		}
		return
	}
	o.events.Add(ctx, 1, a.event...)
	switch e.Kind {
	case resilience.KindRetry:
		o.retryDelay.Record(ctx, e.Delay.Seconds(), a.record...)
	case resilience.KindSlowCall:
		o.slowCall.Record(ctx, e.Duration.Seconds(), a.record...)
	case resilience.KindTimeout:
		o.timeouts.Record(ctx, e.Duration.Seconds(), a.record...)
	case resilience.KindStateChange:
		o.transitions.Add(ctx, 1, a.transition...)
	}
}

// outcomeOf says how a call ended: nil is a success, an error matching
// resilience.ErrRejected a rejection, any other error a failure.
func outcomeOf(err error) outcome {
	switch {
	case err == nil:
		return outcomeSuccess
	case errors.Is(err, resilience.ErrRejected):
		return outcomeRejected
	}
	return outcomeFailure
}
