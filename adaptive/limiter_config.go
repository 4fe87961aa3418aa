package adaptive

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/internal/limitalg"
)

// Algorithm chooses how a [Limiter] moves its limit. The zero value is
// [Gradient2]. Each follows Netflix's concurrency-limits library
// (concurrency-limits-core, package com.netflix.concurrency.limits.limit)
// with its published defaults; the algorithm is written here, not taken.
//
// AIMD suits clients, which see drops (timeouts, overload answers) but whose
// latency includes the network; Vegas and Gradient2 suit servers, which
// measure their own latency and can see queueing in it before anything
// times out.
//
// Each algorithm updates on a sample: by default one per call for AIMD, and
// for Vegas and Gradient2 one per sample window of about a second, whose
// mean latency, most calls in flight and any drop make the sample (see
// [LimiterConfig.Window]).
type Algorithm uint8

const (
	// Gradient2 compares each sample's latency with a long-term average of
	// latencies (an exponential average over 600 samples): within 1.5× of
	// it the limit grows by up to 4 (the queue size) a sample, above it the
	// limit shrinks by up to half, each step smoothed by 0.2, so at most
	// +0.8 or about −10% a sample. A drop counts as the steepest shrink. At
	// the steepest the limit falls towards twice the queue size, 8, so a
	// MinLimit below 8 is not reached. Netflix's Gradient2Limit.
	Gradient2 Algorithm = iota
	// AIMD adds 1 to the limit for each success while at least half the
	// limit was in flight, and multiplies it by 0.9 on a drop or a call
	// slower than 5s. Netflix's AIMDLimit.
	AIMD
	// Vegas estimates the queue as limit × (1 − minLatency/latency) and, with
	// log = max(1, ⌊log10(limit)⌋), adds 6·log when the queue is at most
	// log, adds log when it is below 3·log, takes log away when it is above
	// 6·log or on a drop. It measures the minimum latency again every 30 ×
	// limit samples or so. Netflix's VegasLimit (alpha 3·log10, beta 6·log10).
	Vegas
)

// String returns "gradient2", "aimd" or "vegas".
func (a Algorithm) String() string {
	switch a {
	case Gradient2:
		return "gradient2"
	case AIMD:
		return "aimd"
	case Vegas:
		return "vegas"
	}
	return "Algorithm(" + strconv.Itoa(int(a)) + ")"
}

// LimiterConfig configures a [Limiter]. The zero value of every field means
// its documented default, so LimiterConfig{} is Netflix's Gradient2Limit
// with its defaults: limit 20 to start, never below 20 or above 200.
type LimiterConfig struct {
	// Name is copied into every Event the limiter emits. Zero means no name.
	Name string

	// Algorithm moves the limit. Zero means Gradient2.
	Algorithm Algorithm

	// InitialLimit is the limit before any call has finished. Zero means 20,
	// moved into [MinLimit, MaxLimit].
	InitialLimit int

	// MinLimit is the lowest the limit goes. Zero means 20, or MaxLimit when
	// that is lower.
	MinLimit int

	// MaxLimit is the highest the limit goes. Zero means 200, or MinLimit
	// when that is higher.
	MaxLimit int

	// IsDrop reports whether a call's error is a drop: a sign of overload
	// that lowers the limit (Netflix's onDropped). Any other error is
	// sampled like a success (Netflix's onSuccess): the call's latency is
	// still a measure of the dependency. Nil means an error matching
	// context.DeadlineExceeded (a timeout; [Limiter.Do] has already set the
	// caller's own deadline apart) or [resilience.ErrRejected] (a refusal by
	// a policy inside the limiter, or one that came back from a downstream
	// service), or an error whose tree holds one with a method
	// Overload() bool, the first of them (in errors.As order) returning
	// true — as resiliencehttp's StatusError does for 429 and 503, so that
	// resiliencehttp.IsOverload and this default agree.
	IsDrop func(error) bool

	// Window is how long the limiter gathers calls into one sample for the
	// algorithm, as Netflix's WindowedLimit does: the algorithm sees the
	// window's mean latency, the most calls in flight when any of its calls
	// started, and a drop if any of them dropped, once, when the first call
	// to end after the window closes it. A window of fewer than 10 calls is
	// discarded, and a success faster than 100 µs is not sampled (a drop
	// always is). So a drop lowers the limit at the end of its window, as in
	// Netflix, not at once. Windows smooth out the spread of single calls'
	// latencies, which would otherwise read as queueing and pull Vegas and
	// Gradient2 to MinLimit; but the limit moves only once a window.
	//
	// Zero means, for Vegas and Gradient2, Netflix's WindowedLimit with its
	// defaults (a window lasts twice the lowest latency of the one before,
	// but at least its minimum and at most its maximum window time, both
	// 1 s: so 1 s), as Netflix's gRPC server example wraps Gradient2Limit
	// (Netflix's limiters default to a VegasLimit without a window); and,
	// for AIMD, every call its own sample, as Netflix's
	// BlockingAdaptiveExecutor runs AIMDLimit.
	// Negative means every call its own sample, for every algorithm. A
	// positive Window is the window's length for every algorithm; it must be
	// at least 100 ms, the least Netflix allows.
	Window time.Duration

	// Observer receives the limiter's events. Nil means none.
	Observer resilience.Observer
}

// MinWindow is the shortest positive [LimiterConfig.Window], the least
// Netflix's WindowedLimit allows.
const MinWindow = 100 * time.Millisecond

// bounds returns the limits c means, with the defaults filled in.
func (c LimiterConfig) bounds() limitalg.Bounds {
	b := limitalg.Bounds{Initial: c.InitialLimit, Min: c.MinLimit, Max: c.MaxLimit}
	switch {
	case b.Min == 0 && b.Max == 0:
		b.Min, b.Max = limitalg.DefaultMin, limitalg.DefaultMax
	case b.Min == 0:
		b.Min = min(limitalg.DefaultMin, b.Max)
	case b.Max == 0:
		b.Max = max(limitalg.DefaultMax, b.Min)
	}
	if b.Initial == 0 {
		b.Initial = min(max(limitalg.DefaultInitial, b.Min), b.Max)
	}
	return b
}

// Validate reports what [NewLimiter] would panic on: a negative limit, an
// unknown Algorithm, a MinLimit above MaxLimit, an InitialLimit outside
// [MinLimit, MaxLimit], once the defaults are filled in, or a positive
// Window below [MinWindow].
func (c LimiterConfig) Validate() error {
	var errs []error
	if c.InitialLimit < 0 || c.MinLimit < 0 || c.MaxLimit < 0 {
		errs = append(errs, fmt.Errorf("adaptive: limits must not be negative (InitialLimit %d, MinLimit %d, MaxLimit %d)", c.InitialLimit, c.MinLimit, c.MaxLimit))
	} else {
		b := c.bounds()
		if b.Min > b.Max {
			errs = append(errs, fmt.Errorf("adaptive: MinLimit %d is above MaxLimit %d", b.Min, b.Max))
		} else if b.Initial < b.Min || b.Initial > b.Max {
			errs = append(errs, fmt.Errorf("adaptive: InitialLimit %d is outside [MinLimit %d, MaxLimit %d]", b.Initial, b.Min, b.Max))
		}
	}
	if c.Window > 0 && c.Window < MinWindow {
		errs = append(errs, fmt.Errorf("adaptive: Window %v is below %v (zero means the default, negative every call)", c.Window, MinWindow))
	}
	if c.Algorithm > Vegas {
		errs = append(errs, fmt.Errorf("adaptive: unknown %v", c.Algorithm))
	}
	return errors.Join(errs...)
}

// algorithm returns the state machine c chooses, behind the sample window c
// chooses.
func (c LimiterConfig) algorithm() *limitalg.SampleWindow {
	b := c.bounds()
	var alg limitalg.Algorithm
	switch c.Algorithm {
	case AIMD:
		alg = limitalg.NewAIMD(limitalg.AIMDConfig{Bounds: b})
	case Vegas:
		alg = limitalg.NewVegas(limitalg.VegasConfig{Bounds: b})
	default:
		alg = limitalg.NewGradient2(limitalg.Gradient2Config{Bounds: b})
	}
	return limitalg.NewSampleWindow(alg, c.window())
}

// window returns the sample window c means.
func (c LimiterConfig) window() limitalg.SampleWindowConfig {
	switch {
	case c.Window < 0, c.Window == 0 && c.Algorithm == AIMD:
		return limitalg.SampleWindowConfig{PerSample: true}
	case c.Window > 0:
		return limitalg.SampleWindowConfig{MinTime: c.Window, MaxTime: c.Window}
	}
	return limitalg.SampleWindowConfig{}
}
