package main

import (
	"math/rand/v2"
	"time"

	"github.com/magicmagnets/resilience/adaptive"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/internal/limitalg"
)

// variant is one way of protecting the service. Every variant's clients
// retry with retry.Policy (scenario.Attempts attempts, the default backoff);
// what differs is what sits in front of the server and in the clients.
type variant struct {
	name string
	// bulkhead, when > 0, caps the requests the server holds (queued and in
	// service) at that many; one more is refused at once (503).
	bulkhead int
	// server, when set, makes the server's concurrency limit: a request
	// arriving while as many are held as the limit is refused at once (503).
	server func(r *rand.Rand) *limitalg.SampleWindow
	// client, when set, makes each client instance's concurrency limit on its
	// own attempts in flight; an attempt over it fails at once, locally.
	client func(r *rand.Rand) *limitalg.SampleWindow
	// throttle gives each client instance the SRE book's client-side
	// throttle, with adaptive.Throttler's defaults (throttleConfig).
	throttle bool
	// breaker, when set, gives each client instance a circuit breaker,
	// outside the throttle.
	breaker *breaker.Config
}

// throttleConfig is adaptive.Throttler's default configuration, as
// adaptive.NewThrottler hands it to limitalg: K 2, a two-minute window in 60
// buckets of 2 s, 20 requests before it acts, rejection capped at 0.9.
func throttleConfig() limitalg.ThrottleConfig {
	return limitalg.ThrottleConfig{K: 2, MinRequests: 20, MaxRejectRate: 0.9, BucketWidth: 2 * time.Second, Buckets: 60}
}

// limiterWindow is the sample window adaptive.NewLimiter gives alg by
// default (LimiterConfig.Window zero): Netflix's WindowedLimit defaults for
// Vegas and Gradient2, every call a sample for AIMD.
func limiterWindow(a adaptive.Algorithm, alg limitalg.Algorithm) *limitalg.SampleWindow {
	return limitalg.NewSampleWindow(alg, limitalg.SampleWindowConfig{PerSample: a == adaptive.AIMD})
}

// variants are the configurations the study compares.
func variants(sc scenario) []variant {
	return []variant{
		{name: "no protection"},
		{name: "static bulkhead", bulkhead: sc.Workers + sc.Workers/5},
		{name: "breaker", breaker: &breaker.Config{}},
		{name: "AIMD (client)", client: func(*rand.Rand) *limitalg.SampleWindow {
			return limiterWindow(adaptive.AIMD, limitalg.NewAIMD(limitalg.AIMDConfig{}))
		}},
		{name: "Vegas (server)", server: func(r *rand.Rand) *limitalg.SampleWindow {
			return limiterWindow(adaptive.Vegas, limitalg.NewVegas(limitalg.VegasConfig{Rand: r.Float64}))
		}},
		{name: "Gradient2 (server)", server: func(*rand.Rand) *limitalg.SampleWindow {
			return limiterWindow(adaptive.Gradient2, limitalg.NewGradient2(limitalg.Gradient2Config{}))
		}},
		{name: "SRE throttler (client)", throttle: true},
		{name: "throttler + breaker", throttle: true, breaker: &breaker.Config{}},
		// The SRE book's setting: a backend that refuses what it cannot serve,
		// cheaply, and clients that throttle themselves.
		{name: "throttler + bulkhead", throttle: true, bulkhead: sc.Workers + sc.Workers/5},
	}
}
