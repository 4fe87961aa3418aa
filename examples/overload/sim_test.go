package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func variantNamed(t *testing.T, sc scenario, name string) variant {
	for _, v := range variants(sc) {
		if v.name == name {
			return v
		}
	}
	require.FailNow(t, "no variant "+name)
	return variant{}
}

func TestSimulationIsDeterministicForASeed(t *testing.T) {
	sc := tinyScenario()
	for _, v := range variants(sc) {
		a := simulate(sc, v, runSource(5, 0))
		b := simulate(sc, v, runSource(5, 0))
		assert.Equal(t, a.Seconds, b.Seconds, v.name)
		assert.Equal(t, a.Latency, b.Latency, v.name)
		c := simulate(sc, v, runSource(6, 0))
		assert.NotEqual(t, a.Seconds, c.Seconds, "%s: another seed, another run", v.name)
	}
}

func TestEveryRequestEndsAtMostOnce(t *testing.T) {
	sc := tinyScenario()
	for _, v := range variants(sc) {
		secs := simulate(sc, v, runSource(2, 0)).Seconds
		var arrived, ended, served, wasted, offered, refused int
		for _, s := range secs {
			arrived += s.Arrived
			ended += s.Succeeded + s.Failed
			served, wasted, offered, refused = served+s.Served, wasted+s.Wasted, offered+s.Offered, refused+s.Refused
		}
		assert.LessOrEqual(t, ended, arrived, v.name)
		assert.Greater(t, ended, arrived*9/10, "%s: nearly every request has ended when the run stops", v.name)
		assert.LessOrEqual(t, wasted, served, v.name)
		assert.LessOrEqual(t, served+refused, offered, "%s: the server finishes or refuses only what reached it", v.name)
	}
}

func TestAtHalfCapacityEveryRequestSucceedsWithoutProtection(t *testing.T) {
	sc := quickScenario()
	secs := simulate(sc, variantNamed(t, sc, "no protection"), runSource(1, 0)).Seconds
	m := measure(sc, secs)
	assert.InDelta(t, sc.Base*sc.capacity(), m.Warm, 0.1*sc.Base*sc.capacity(), "goodput in the warm-up is the load")
	for _, s := range secs[2:int(sc.Warmup.Seconds())] {
		assert.Zero(t, s.Failed+s.Wasted+s.Refused+s.Local)
	}
}

// Without protection the queue outgrows the timeout, every attempt times
// out in it, and the retries keep it there: the server is busy with
// requests nobody waits for.
func TestWithoutProtectionTwiceTheCapacityCollapsesGoodput(t *testing.T) {
	sc := quickScenario()
	none := measure(sc, simulate(sc, variantNamed(t, sc, "no protection"), runSource(1, 0)).Seconds)
	for _, name := range []string{"static bulkhead", "Gradient2 (server)", "AIMD (client)", "throttler + bulkhead"} {
		m := measure(sc, simulate(sc, variantNamed(t, sc, name), runSource(1, 0)).Seconds)
		assert.Greater(t, m.Hold, none.Hold+0.1*sc.capacity(), "%s: goodput at %g×", name, sc.Hold)
		assert.Greater(t, m.Spike, none.Spike+0.1*sc.capacity(), "%s: goodput in the spike", name)
		assert.Less(t, m.Wasted, none.Wasted, "%s: wasted work", name)
	}
	assert.Greater(t, none.Wasted, 0.5, "most of what the server does is wasted")
	assert.False(t, none.Recovered, "the retries keep it overloaded after the spike")
}

// A bulkhead in front of the server keeps its queue short, so what it
// admits is served well within the timeout, nothing is wasted, and the
// service is back as soon as the spike ends.
func TestStaticBulkheadServesNearCapacityAndRecoversAtOnce(t *testing.T) {
	sc := quickScenario()
	m := measure(sc, simulate(sc, variantNamed(t, sc, "static bulkhead"), runSource(1, 0)).Seconds)
	assert.Greater(t, m.Hold, 0.85*sc.capacity())
	assert.Zero(t, m.Wasted)
	require.True(t, m.Recovered)
	assert.LessOrEqual(t, m.Recovery.Seconds(), 1.0)
}

// The SRE book: with K = 2, clients that throttle themselves send the
// backend about twice what it accepts, once their window holds only the
// overload; without the throttle, retries of refused requests send it
// several times more.
func TestThrottleHoldsAttemptsToAboutKTimesAccepts(t *testing.T) {
	sc := steadyScenario(tinyScenario())
	with := measure(sc, simulate(sc, variantNamed(t, sc, "throttler + bulkhead"), runSource(1, 0)).Seconds)
	without := measure(sc, simulate(sc, variantNamed(t, sc, "static bulkhead"), runSource(1, 0)).Seconds)
	assert.InDelta(t, 2, with.PerAccept, 0.3)
	assert.Greater(t, without.PerAccept, 2*with.PerAccept)
}

func TestRecoveryIsTheStartOfTheLastStretchAtNinetyPercent(t *testing.T) {
	sc := scenario{Warmup: 2e9, Ramp: 1e9, HoldFor: 1e9, SpikeFor: 1e9, RecoverFor: 10e9} // recovery from 5 s, ends at 15 s
	good, bad := second{Succeeded: 100}, second{Succeeded: 50}
	secs := []second{good, good, good, good, good, bad, bad, bad, good, good, good, good, good, good, good, good}
	d, ok := recovery(sc, secs, 100)
	require.True(t, ok)
	assert.Equal(t, 3e9, float64(d), "the windows starting at 8 s and later are all at 100")

	secs[9] = bad // the windows starting at 7, 8 and 9 s average 83 or less
	d, ok = recovery(sc, secs, 100)
	require.True(t, ok)
	assert.Equal(t, 5e9, float64(d), "recovered from the window at 10 s")

	secs[13] = bad // so does the last window, from 12 s
	_, ok = recovery(sc, secs, 100)
	assert.False(t, ok, "not recovered when the run ends below 90%")
}

// With HoldWorkers the server has fewer workers during the hold: what it
// serves a second falls to what they can do, and comes back after.
func TestLosingWorkersCapsWhatTheServerServes(t *testing.T) {
	sc := capacityScenario(quickScenario())
	require.Equal(t, 10, sc.HoldWorkers)
	secs := simulate(sc, variantNamed(t, sc, "static bulkhead"), runSource(1, 0)).Seconds
	served := func(from, to time.Duration) float64 {
		n := 0
		for _, s := range secs[int(from/time.Second):int(to/time.Second)] {
			n += s.Served
		}
		return float64(n) / (to - from).Seconds()
	}
	load := sc.Base * sc.capacity()
	assert.InDelta(t, load, served(5*time.Second, sc.holdAt()), 0.1*load, "before: the whole load is served")
	lost := float64(sc.HoldWorkers) / sc.Service.Seconds()
	assert.LessOrEqual(t, served(sc.holdAt()+time.Second, sc.spikeAt()), lost, "during: at most what %d workers serve", sc.HoldWorkers)
	assert.InDelta(t, load, served(sc.spikeAt()+5*time.Second, sc.end()), 0.1*load, "after: the whole load again")
	assert.Equal(t, sc.Workers, sc.workers(sc.holdAt()-1))
	assert.Equal(t, sc.HoldWorkers, sc.workers(sc.holdAt()))
	assert.Equal(t, sc.Workers, sc.workers(sc.spikeAt()))
}

// A static bulkhead sized for 50 workers lets 35 requests queue when 25 are
// left, and the queue slows the server; an adaptive limit that follows the
// latency keeps the queue shorter and serves more.
func TestAnAdaptiveLimitBeatsAStaticBulkheadWhenCapacityHalves(t *testing.T) {
	sc := capacityScenario(defaultScenario())
	bulk := measure(sc, simulate(sc, variantNamed(t, sc, "static bulkhead"), runSource(1, 0)).Seconds)
	for _, name := range []string{"Vegas (server)", "Gradient2 (server)"} {
		m := measure(sc, simulate(sc, variantNamed(t, sc, name), runSource(1, 0)).Seconds)
		assert.Greater(t, m.Hold, 1.1*bulk.Hold, "%s: goodput with half the workers", name)
		assert.Less(t, m.Limit, float64(sc.Workers), "%s: the limit falls below the lost capacity's workers", name)
	}
}
