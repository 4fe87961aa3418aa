package main

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/magicmagnets/resilience/adaptive"
	"github.com/magicmagnets/resilience/internal/limitalg"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// overloadErr is a 503 as the simulation's clients see it: an answer that
// says the backend is overloaded.
type overloadErr struct{}

func (overloadErr) Error() string  { return "503" }
func (overloadErr) Overload() bool { return true }

// counted counts the samples its algorithm is given.
type counted struct {
	limitalg.Algorithm
	updates int
}

func (c *counted) Update(rtt time.Duration, inflight int, dropped bool) int {
	c.updates++
	return c.Algorithm.Update(rtt, inflight, dropped)
}

// The simulation runs limitalg's algorithms behind limiterWindow's sample
// window, admitting a call while fewer than Limit() are in flight and
// feeding every finished call's end, latency, in-flight count at its start
// and drop to the window. adaptive.Limiter with its default window must
// decide exactly so: the same admissions and the same limit at every step
// of a script of calls that start, finish (fast or slow, as successes,
// timeouts or 503s) in random order, over a few hundred windows, in a
// synctest bubble.
func TestLimiterDecidesAsTheSimulationsAlgorithm(t *testing.T) {
	for _, tc := range []struct {
		name  string
		alg   adaptive.Algorithm
		model func(limitalg.Bounds) limitalg.Algorithm
		steps int
	}{
		{"Gradient2", adaptive.Gradient2, func(b limitalg.Bounds) limitalg.Algorithm {
			return limitalg.NewGradient2(limitalg.Gradient2Config{Bounds: b})
		}, 30000},
		{"AIMD", adaptive.AIMD, func(b limitalg.Bounds) limitalg.Algorithm { return limitalg.NewAIMD(limitalg.AIMDConfig{Bounds: b}) }, 20000},
		// Vegas re-measures its no-load latency at a random sample count,
		// drawn from the simulation's seed there and from math/rand in the
		// Limiter; before the first such probe (at least 0.5 × 30 × 20 = 300
		// samples, here windows) they must agree.
		{"Vegas", adaptive.Vegas, func(b limitalg.Bounds) limitalg.Algorithm {
			return limitalg.NewVegas(limitalg.VegasConfig{Bounds: b, Rand: rand.New(rand.NewPCG(1, 1)).Float64})
		}, 30000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				// The default bounds but a start at 100, so that Vegas,
				// which holds at its floor on this script, has room to move.
				real := adaptive.NewLimiter(adaptive.LimiterConfig{Algorithm: tc.alg, InitialLimit: 100})
				epoch := time.Now() // the Limiter's epoch: time stands still in the bubble
				alg := &counted{Algorithm: tc.model(limitalg.Bounds{Initial: 100, Min: 20, Max: 200})}
				model := limiterWindow(tc.alg, alg)
				r := rand.New(rand.NewPCG(7, 7))
				type call struct {
					permit   adaptive.Permit
					start    time.Time
					inflight int
				}
				var inFlight []call
				var admitted, refused, drops, moves int
				for i := range tc.steps {
					// Latency grows with the calls in flight, so that the
					// algorithms see queueing as well as quiet periods.
					time.Sleep(time.Duration(r.IntN(2+len(inFlight))) * time.Millisecond)
					if len(inFlight) > 0 && r.IntN(2) == 0 {
						j := r.IntN(len(inFlight))
						c := inFlight[j]
						inFlight = append(inFlight[:j], inFlight[j+1:]...)
						// Drops come in spells (a third of the script), so
						// that windows with and without them both occur.
						var err error
						if (i/2000)%3 == 2 {
							switch r.IntN(10) {
							case 0:
								err = context.DeadlineExceeded // a timeout
							case 1:
								err = overloadErr{} // a 503
							}
						}
						dropped := err != nil
						if dropped {
							drops++
						}
						if tc.name == "Vegas" && alg.updates >= 299 {
							c.permit.Ignore()
							continue
						}
						before := model.Limit()
						c.permit.Done(err)
						want := model.Sample(time.Since(epoch), time.Since(c.start), c.inflight, dropped)
						require.Equal(t, want, real.Limit(), "step %d: the limit after a sample", i)
						if want != before {
							moves++
						}
						continue
					}
					want := len(inFlight) < model.Limit()
					p, err := real.Allow()
					require.Equal(t, want, err == nil, "step %d: admitted with %d in flight, limit %d", i, len(inFlight), model.Limit())
					if err != nil {
						assert.ErrorIs(t, err, adaptive.ErrLimited)
						refused++
						continue
					}
					admitted++
					inFlight = append(inFlight, call{p, time.Now(), len(inFlight) + 1})
					require.Equal(t, len(inFlight), real.InFlight())
				}
				for _, c := range inFlight {
					c.permit.Ignore()
				}
				t.Logf("%d admitted, %d refused, %d drops, %d samples to the algorithm, %d moves of the limit, over %v", admitted, refused, drops, alg.updates, moves, time.Since(epoch))
				assert.Positive(t, admitted)
				assert.Positive(t, refused, "the script reaches the limit")
				assert.Positive(t, drops, "the script drops calls")
				assert.Greater(t, moves, 20, "the limit moves often enough to be compared")
			})
		})
	}
}

// seqRand hands out a seeded sequence and remembers its last number, so
// that the model can be given the draw the Throttler made.
type seqRand struct {
	r    *rand.Rand
	last float64
}

func (s *seqRand) Float64() float64 {
	s.last = s.r.Float64()
	return s.last
}

// The simulation runs limitalg.Throttle with throttleConfig(), which must
// be adaptive.Throttler's default, counting a success as an accept and a
// timeout or a 503 as none. adaptive.Throttler must decide exactly so, with
// the same random draws, on a script of requests through an overload and
// back, in a synctest bubble.
func TestThrottlerDecidesAsTheSimulationsThrottle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rnd := &seqRand{r: rand.New(rand.NewPCG(3, 3))}
		real := adaptive.NewThrottler(adaptive.ThrottlerConfig{Rand: rnd})
		model := limitalg.NewThrottle(throttleConfig())
		start := time.Now()
		r := rand.New(rand.NewPCG(4, 4))
		var inFlight []adaptive.ThrottlePermit
		var rejected, let int
		for i := range 60000 {
			time.Sleep(time.Duration(r.IntN(20)) * time.Millisecond)
			now := time.Since(start)
			// Healthy for a minute, then overloaded for two, then healthy.
			failing := now > time.Minute && now < 3*time.Minute
			if len(inFlight) > 0 && r.IntN(2) == 0 {
				j := r.IntN(len(inFlight))
				p := inFlight[j]
				inFlight = append(inFlight[:j], inFlight[j+1:]...)
				var err error
				if failing && r.IntN(10) < 8 {
					err = []error{context.DeadlineExceeded, overloadErr{}}[r.IntN(2)]
				}
				p.Done(err)
				model.Record(now, err == nil)
				continue
			}
			p, err := real.Allow()
			want := model.Reject(now, rnd.last)
			require.Equal(t, want, err != nil, "step %d at %v: rejected", i, now)
			if err != nil {
				assert.True(t, errors.Is(err, adaptive.ErrThrottled))
				rejected++
				continue
			}
			let++
			inFlight = append(inFlight, p)
			require.InDelta(t, model.Probability(now), real.RejectProbability(), 1e-12, "step %d", i)
		}
		assert.Positive(t, rejected, "the script makes the throttle reject")
		assert.Positive(t, let)
	})
}
