package bench

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/failsafe-go/failsafe-go"
	"github.com/failsafe-go/failsafe-go/ratelimiter"
	uber "go.uber.org/ratelimit"
	"golang.org/x/time/rate"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/ratelimit"
)

// Every limiter here admits 1e9 calls a second, far more than one core
// makes, so that none refuses or waits and the figures are the cost of a
// decision. go.uber.org/ratelimit's Take blocks until the next slot
// instead of refusing; at 1e9 a second its slot has always come, so it
// never sleeps either. Burst, where a library has one, is 1000.
const (
	benchRate  = 1e9
	benchBurst = 1000
)

// allower is one library's way to take a token without waiting.
type allower struct {
	lib   string
	allow func() bool
}

func allowers() []allower {
	ours := ratelimit.New(ratelimit.Config{Rate: benchRate, Burst: benchBurst})
	xt := rate.NewLimiter(benchRate, benchBurst)
	bursty := ratelimiter.NewBursty[any](benchRate, time.Second)
	smooth := ratelimiter.NewSmooth[any](benchRate, time.Second)
	ub := uber.New(benchRate)
	return []allower{
		{"resilience", ours.Allow},
		{"xtimerate", xt.Allow},
		{"failsafe-bursty", bursty.TryAcquirePermit},
		{"failsafe-smooth", smooth.TryAcquirePermit},
		{"uber", func() bool { ub.Take(); return true }},
	}
}

// BenchmarkRateLimitAllow: take a free token, without waiting — ours is
// Limiter.Allow, x/time/rate's Limiter.Allow, failsafe-go's
// TryAcquirePermit (bursty and smooth), and go.uber.org/ratelimit's Take,
// which never blocks at this rate.
func BenchmarkRateLimitAllow(b *testing.B) {
	for _, a := range allowers() {
		b.Run("lib="+a.lib, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !a.allow() {
					b.Fatalf("%s: refused at a rate of 1e9/s", a.lib)
				}
			}
		})
	}
}

// BenchmarkRateLimitAllowParallel: BenchmarkRateLimitAllow from GOMAXPROCS
// goroutines at once, on one limiter; run with -cpu 1,2. One shared bucket
// cannot scale: compare ours with x/time/rate's in the same run.
func BenchmarkRateLimitAllowParallel(b *testing.B) {
	for _, a := range allowers() {
		b.Run("lib="+a.lib, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if !a.allow() {
						b.Errorf("%s: refused at a rate of 1e9/s", a.lib)
						return
					}
				}
			})
		})
	}
}

// rateLimitSubjects run an operation under each limiter: ours through Do,
// failsafe-go's through an executor built once, and x/time/rate and
// go.uber.org/ratelimit the way their users write it, a token then the call.
func rateLimitSubjects() []subject {
	ours := ratelimit.New(ratelimit.Config{Rate: benchRate, Burst: benchBurst})
	xt := rate.NewLimiter(benchRate, benchBurst)
	fs := failsafe.With[any](ratelimiter.NewSmooth[any](benchRate, time.Second))
	ub := uber.New(benchRate)
	return []subject{
		{"resilience", ours.Do},
		{"xtimerate", func(ctx context.Context, op resilience.Func) error {
			if !xt.Allow() {
				return ratelimit.ErrLimited
			}
			return op(ctx)
		}},
		{"failsafe", func(ctx context.Context, op resilience.Func) error {
			return fs.Run(func() error { return op(ctx) })
		}},
		{"uber", func(ctx context.Context, op resilience.Func) error {
			ub.Take()
			return op(ctx)
		}},
	}
}

// BenchmarkRateLimitDo: a call that succeeds, run under a limit with
// tokens to spare.
func BenchmarkRateLimitDo(b *testing.B) {
	run(b, rateLimitSubjects(), succeed, nil, false)
}

// BenchmarkRateLimitKeyedAllow: take a token of a key already known, one
// of 1000 — ours is Keyed.Allow; the peer is what a user writes with
// x/time/rate: a map of limiters under a mutex.
func BenchmarkRateLimitKeyedAllow(b *testing.B) {
	const keys = 1000
	names := make([]string, keys)
	for i := range names {
		names[i] = "tenant-" + strconv.Itoa(i)
	}
	ours := ratelimit.NewKeyed(ratelimit.Config{Rate: benchRate, Burst: benchBurst}, 0)
	var mu sync.Mutex
	limiters := make(map[string]*rate.Limiter, keys)
	xtAllow := func(key string) bool {
		mu.Lock()
		l, ok := limiters[key]
		if !ok {
			l = rate.NewLimiter(benchRate, benchBurst)
			limiters[key] = l
		}
		mu.Unlock()
		return l.Allow()
	}
	for _, s := range []struct {
		lib   string
		allow func(string) bool
	}{
		{"resilience", ours.Allow},
		{"xtimerate-map", xtAllow},
	} {
		for _, n := range names {
			s.allow(n)
		}
		b.Run("lib="+s.lib, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if !s.allow(names[i%keys]) {
					b.Fatalf("%s: refused at a rate of 1e9/s", s.lib)
				}
				i++
			}
		})
	}
}
