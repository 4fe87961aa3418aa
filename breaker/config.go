package breaker

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/magicmagnets/resilience"
)

// Config configures a [Breaker]. The zero value of every field means its
// documented default, so Config{} is a usable breaker: a count window of the
// last 100 calls that trips when at least 20 of them were made and half failed,
// stays open for 5 seconds and then admits one probe.
type Config struct {
	// Name is copied into every Event the breaker emits. Zero means no name.
	Name string

	// WindowSize is the count-based window: the outcomes of the last
	// WindowSize calls. Zero means 100. Ignored when Window is set.
	WindowSize int

	// Window selects a time-based window instead: the outcomes of the calls
	// that finished in the last Window, kept in 10 buckets of Window/10 each
	// (so the window slides in steps of Window/10). Zero means count-based.
	Window time.Duration

	// MinCalls is how many calls the window must hold before the failure and
	// slow-call rates may trip the breaker. Zero means 20. With a count
	// window, a MinCalls above WindowSize is taken as WindowSize.
	MinCalls int

	// FailureRate trips the breaker when failures / calls ≥ FailureRate, in
	// (0, 1]. Zero means 0.5.
	FailureRate float64

	// SlowCallDuration marks a call that took longer than this as slow,
	// whether it failed or not. A call during which the caller's own context
	// ended is not a failure, but it is still recorded as slow when it took
	// longer than this (and not recorded at all otherwise). Zero means off:
	// no call is slow, and without an Observer calls are not timed at all.
	SlowCallDuration time.Duration

	// SlowCallRate trips the breaker when slow calls / calls ≥ SlowCallRate,
	// in (0, 1]. Zero means 1.0. It applies only when SlowCallDuration is set.
	SlowCallRate float64

	// ConsecutiveFailures also trips the breaker after this many failures in
	// a row, however few calls the window holds. Zero means off.
	ConsecutiveFailures int

	// OpenFor is how long the breaker stays open before it admits a probe.
	// Zero means 5s.
	OpenFor time.Duration

	// MaxOpenFor bounds the open time when repeated trips without a
	// successful close double OpenFor. Zero means OpenFor: no doubling.
	// It must not be below OpenFor.
	MaxOpenFor time.Duration

	// HalfOpenProbes is how many probes the half-open breaker admits at once;
	// all of them must succeed to close it, and, when SlowCallDuration is
	// set, fewer than SlowCallRate of them may be slow. A probe whose result
	// is not recorded (its caller's context ended, or Ignore matched its
	// error) frees its slot for another. A probe that has not returned
	// OpenFor after it was admitted no longer holds its slot: the next call
	// is admitted as a probe in its place, and the late probe's result is
	// then ignored, so a probe that hangs cannot keep the breaker half-open
	// for ever. A call turned away while every slot is taken carries a
	// RetryAfter hint of about the oldest probe's age so far, at least
	// OpenFor/50 and at most the time until its slot frees (see [ErrOpen]).
	// Zero means 1.
	HalfOpenProbes int

	// IsFailure reports whether a non-nil error counts as a failure; an error
	// that does not counts as a success. It is never called with nil, with
	// the end of the caller's own context, nor with an error Ignore matched:
	// those are decided first. Zero means every other error is a failure.
	IsFailure func(error) bool

	// Ignore reports whether a non-nil error is neither a success nor a
	// failure: the call is not recorded at all (a probe frees its slot), as
	// for a validation error or a 4xx answer that says nothing about the
	// dependency's health. It is never called with nil nor with the end of
	// the caller's own context. Ignore is asked before IsFailure, which never
	// sees an ignored error.
	//
	// Zero means errors matching [resilience.ErrRejected] are ignored: a
	// policy inside the breaker (a bulkhead, a rate limit, another breaker)
	// turned the call away without reaching the dependency. A non-nil Ignore
	// replaces that default; to keep it, include
	// errors.Is(err, resilience.ErrRejected) in yours.
	Ignore func(error) bool

	// Observer receives the breaker's events: KindCall for every call,
	// admitted or rejected, and KindStateChange, KindRejected and
	// KindSlowCall (see the package doc for their fields). Zero means no
	// events, at no cost: no event is built and no clock read for one.
	Observer resilience.Observer
}

// The defaults a zero Config field stands for.
const (
	defaultWindowSize     = 100
	defaultMinCalls       = 20
	defaultFailureRate    = 0.5
	defaultSlowCallRate   = 1.0
	defaultOpenFor        = 5 * time.Second
	defaultHalfOpenProbes = 1

	// timeBuckets is how many buckets a time window is split into.
	timeBuckets = 10
)

// settings is a validated Config with every default filled in.
type settings struct {
	windowSize     int
	window         time.Duration
	minCalls       int
	failureRate    float64
	slowCall       time.Duration
	slowCallRate   float64
	consecutive    int
	openFor        time.Duration
	maxOpenFor     time.Duration
	halfOpenProbes int
	isFailure      func(error) bool
	ignore         func(error) bool
}

// Validate reports what [New] would panic on: a negative field, a rate
// outside (0, 1], MaxOpenFor below OpenFor. It returns nil for a
// configuration New accepts, so that a configuration read from a file can be
// checked before use. The error's message starts with "breaker: ".
func (c Config) Validate() error {
	_, err := c.settings()
	return err
}

// settings validates c and fills in the defaults.
func (c Config) settings() (settings, error) {
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"WindowSize", int64(c.WindowSize)},
		{"Window", int64(c.Window)},
		{"MinCalls", int64(c.MinCalls)},
		{"SlowCallDuration", int64(c.SlowCallDuration)},
		{"ConsecutiveFailures", int64(c.ConsecutiveFailures)},
		{"OpenFor", int64(c.OpenFor)},
		{"MaxOpenFor", int64(c.MaxOpenFor)},
		{"HalfOpenProbes", int64(c.HalfOpenProbes)},
	} {
		if f.v < 0 {
			return settings{}, fmt.Errorf("breaker: %s must not be negative, got %d", f.name, f.v)
		}
	}
	if err := checkRate("FailureRate", c.FailureRate); err != nil {
		return settings{}, err
	}
	if err := checkRate("SlowCallRate", c.SlowCallRate); err != nil {
		return settings{}, err
	}

	s := settings{
		windowSize:     cmp.Or(c.WindowSize, defaultWindowSize),
		window:         c.Window,
		minCalls:       cmp.Or(c.MinCalls, defaultMinCalls),
		failureRate:    cmp.Or(c.FailureRate, defaultFailureRate),
		slowCall:       c.SlowCallDuration,
		slowCallRate:   cmp.Or(c.SlowCallRate, defaultSlowCallRate),
		consecutive:    c.ConsecutiveFailures,
		openFor:        cmp.Or(c.OpenFor, defaultOpenFor),
		maxOpenFor:     c.MaxOpenFor,
		halfOpenProbes: cmp.Or(c.HalfOpenProbes, defaultHalfOpenProbes),
		isFailure:      c.IsFailure,
		ignore:         c.Ignore,
	}
	if s.ignore == nil {
		s.ignore = isRejection
	}
	s.maxOpenFor = cmp.Or(s.maxOpenFor, s.openFor)
	if s.maxOpenFor < s.openFor {
		return settings{}, fmt.Errorf("breaker: MaxOpenFor %v is below OpenFor %v", s.maxOpenFor, s.openFor)
	}
	if s.window == 0 && s.minCalls > s.windowSize {
		s.minCalls = s.windowSize
	}
	return s, nil
}

// isRejection is the default Ignore: a local rejection from a policy inside
// the breaker.
func isRejection(err error) bool { return errors.Is(err, resilience.ErrRejected) }

// checkRate accepts 0 (the default) and rates in (0, 1].
func checkRate(field string, v float64) error {
	if math.IsNaN(v) || v < 0 || v > 1 {
		return fmt.Errorf("breaker: %s must be in (0, 1], got %v", field, v)
	}
	return nil
}
