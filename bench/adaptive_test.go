package bench

import (
	"testing"

	"github.com/failsafe-go/failsafe-go/adaptivelimiter"
	"github.com/failsafe-go/failsafe-go/adaptivethrottler"

	"github.com/magicmagnets/resilience/adaptive"
)

// limiterPermits returns, per library, one admission and release of an
// adaptive limiter with its limit far from reached, the success sampled:
// ours is Allow and Permit.Done(nil), failsafe-go's TryAcquirePermit and
// Permit.Record. Both start at a limit of 20 within [20, 200], Netflix's
// Gradient2 defaults (failsafe-go's algorithm is its own, Vegas-like with
// a quantile window; it is configured to the same limits).
func limiterPermits() []admitter {
	ours := adaptive.NewLimiter(adaptive.LimiterConfig{})
	fs := adaptivelimiter.NewBuilder[any]().WithLimits(20, 200, 20).Build()
	return []admitter{
		{"resilience", func() bool {
			p, err := ours.Allow()
			if err != nil {
				return false
			}
			p.Done(nil)
			return true
		}},
		{"failsafe", func() bool {
			p, ok := fs.TryAcquirePermit()
			if !ok {
				return false
			}
			p.Record()
			return true
		}},
	}
}

// throttlerDecisions returns, per library, one decision of a client-side
// throttler whose backend accepts everything (so nothing is rejected), with
// the outcome recorded: ours is Allow and ThrottlePermit.Done(nil),
// failsafe-go's AcquirePermit and RecordSuccess. Both with their defaults.
func throttlerDecisions() []admitter {
	ours := adaptive.NewThrottler(adaptive.ThrottlerConfig{})
	fs := adaptivethrottler.NewWithDefaults[any]()
	return []admitter{
		{"resilience", func() bool {
			p, err := ours.Allow()
			if err != nil {
				return false
			}
			p.Done(nil)
			return true
		}},
		{"failsafe", func() bool {
			if fs.AcquirePermit() != nil {
				return false
			}
			fs.RecordSuccess()
			return true
		}},
	}
}

// BenchmarkAdaptiveLimiterPermit: an adaptive limiter admits a call and
// samples its success.
func BenchmarkAdaptiveLimiterPermit(b *testing.B) {
	benchAdmit(b, limiterPermits())
}

// BenchmarkAdaptiveLimiterPermitParallel: BenchmarkAdaptiveLimiterPermit
// from GOMAXPROCS goroutines at once (fewer than the limit of 20, so none
// is refused); run it with -cpu 1,2 to see how throughput scales.
func BenchmarkAdaptiveLimiterPermitParallel(b *testing.B) {
	benchAdmitParallel(b, limiterPermits())
}

// BenchmarkAdaptiveThrottlerDecision: a client-side throttler lets a
// request through and counts its success.
func BenchmarkAdaptiveThrottlerDecision(b *testing.B) {
	benchAdmit(b, throttlerDecisions())
}

// BenchmarkAdaptiveThrottlerDecisionParallel:
// BenchmarkAdaptiveThrottlerDecision from GOMAXPROCS goroutines at once;
// run it with -cpu 1,2.
func BenchmarkAdaptiveThrottlerDecisionParallel(b *testing.B) {
	benchAdmitParallel(b, throttlerDecisions())
}

func benchAdmit(b *testing.B, as []admitter) {
	for _, a := range as {
		b.Run("lib="+a.lib, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !a.admit() {
					b.Fatalf("%s: refused with the limit free", a.lib)
				}
			}
		})
	}
}

func benchAdmitParallel(b *testing.B, as []admitter) {
	for _, a := range as {
		b.Run("lib="+a.lib, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if !a.admit() {
						b.Errorf("%s: refused with the limit free", a.lib)
						return
					}
				}
			})
		})
	}
}

func TestEveryAdaptiveLimiterAdmitsWhileFree(t *testing.T) {
	for _, a := range limiterPermits() {
		for range 1000 {
			if !a.admit() {
				t.Fatalf("%s refused a call with nothing in flight", a.lib)
			}
		}
	}
}

func TestEveryAdaptiveThrottlerAdmitsWhileTheBackendAccepts(t *testing.T) {
	for _, a := range throttlerDecisions() {
		for range 1000 {
			if !a.admit() {
				t.Fatalf("%s rejected a request while every one was accepted", a.lib)
			}
		}
	}
}
