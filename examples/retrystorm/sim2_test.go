package main

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/magicmagnets/resilience/internal/breakermodel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shortScenario is the default scenario with less time around the outage.
func shortScenario() scenario {
	sc := defaultScenario()
	sc.OutageAt, sc.Arrivals = 20*time.Second, 80*time.Second
	return sc
}

func variantNamed(t *testing.T, name string) variant {
	for _, v := range variants() {
		if v.name == name {
			return v
		}
	}
	require.FailNow(t, "no variant "+name)
	return variant{}
}

func outageLoad(t *testing.T, name string) (mean float64, secs []second2) {
	sc := shortScenario()
	secs = overload(sc, variantNamed(t, name), rand.New(rand.NewPCG(1, 1)))
	_, mean, _ = loads(sc, secs)
	return mean, secs
}

func TestOverloadIsDeterministicForASeed(t *testing.T) {
	sc := shortScenario()
	for _, v := range variants() {
		a := overload(sc, v, rand.New(rand.NewPCG(5, 5)))
		b := overload(sc, v, rand.New(rand.NewPCG(5, 5)))
		assert.Equal(t, a, b, v.name)
	}
}

func TestEveryRequestIsCountedOnceAndSucceedsAtMostOnce(t *testing.T) {
	sc := shortScenario()
	for _, v := range variants() {
		secs := overload(sc, v, rand.New(rand.NewPCG(2, 2)))
		arrived := 0
		for s, x := range secs {
			assert.LessOrEqual(t, x.Succeeded, x.Arrived, "%s, second %d", v.name, s)
			arrived += x.Arrived
		}
		// 100 a second for 80 seconds, give or take a few standard deviations.
		assert.InDelta(t, 8000, arrived, 400, v.name)
	}
}

func TestBeforeTheOutageEveryRequestSucceedsWithoutRetries(t *testing.T) {
	_, secs := outageLoad(t, "3 attempts")
	for s := 2; s < 19; s++ { // requests of second 19 may still be in progress at 20
		assert.Equal(t, secs[s].Arrived, secs[s].Succeeded, "second %d", s)
		assert.InDelta(t, float64(secs[s].Arrived), float64(secs[s].Offered), 0.05*float64(secs[s].Arrived)+3, "second %d", s)
	}
}

func TestNothingSucceedsInTheMiddleOfTheOutage(t *testing.T) {
	for _, v := range variants() {
		secs := overload(shortScenario(), v, rand.New(rand.NewPCG(1, 1)))
		for s := 21; s < 40; s++ {
			assert.Zero(t, secs[s].Succeeded, "%s, second %d", v.name, s)
		}
	}
}

func TestPlainRetriesNearlyTripleTheLoadInAnOutage(t *testing.T) {
	mean, _ := outageLoad(t, "3 attempts")
	assert.InDelta(t, 2.9, mean, 0.15)
}

func TestTenPercentBudgetHoldsTheLoadNearOnePointOne(t *testing.T) {
	mean, _ := outageLoad(t, "3 attempts, 10% budget")
	assert.InDelta(t, 1.1, mean, 0.05)
}

func TestBreakerShedsMostOfTheLoadInAnOutage(t *testing.T) {
	mean, _ := outageLoad(t, "3 attempts, breaker")
	assert.Less(t, mean, 0.5)
}

func TestWithoutRetriesTheServiceRecoversAsSoonAsTheOutageEnds(t *testing.T) {
	sc := shortScenario()
	secs := overload(sc, variantNamed(t, "no retries"), rand.New(rand.NewPCG(1, 1)))
	d, ok := recovery(sc, secs)
	require.True(t, ok)
	assert.LessOrEqual(t, d, time.Second)
}

func TestRecoveryIsTheStartOfTheLastHealthyStretch(t *testing.T) {
	sc := scenario{OutageAt: 2 * time.Second, OutageFor: 2 * time.Second, Arrivals: 10 * time.Second}
	ok100 := second2{Arrived: 100, Succeeded: 100}
	bad := second2{Arrived: 100, Succeeded: 90}
	secs := []second2{ok100, ok100, bad, bad, bad, ok100, bad, ok100, ok100, ok100}
	d, ok := recovery(sc, secs)
	require.True(t, ok)
	assert.Equal(t, 3*time.Second, d)

	secs[9] = bad
	_, ok = recovery(sc, secs)
	assert.False(t, ok, "not recovered when the last second is unhealthy")
}

// Parking callers until the probe's slot frees sends them back together
// seconds after the dependency is healthy again; a hint that follows the
// probe's age lets them back as soon as it answers.
func TestProbeAgeHintRecoversFasterThanParkingUntilTheSlotFrees(t *testing.T) {
	sc := shortScenario()
	const runs = 5
	after := map[breakermodel.HalfOpenHint]float64{}
	rec := map[breakermodel.HalfOpenHint]time.Duration{}
	for _, v := range hintVariants() {
		for i := range runs {
			secs := overload(sc, v, runSource(1, i))
			_, _, a := loads(sc, secs)
			d, ok := recovery(sc, secs)
			require.True(t, ok, "%s, run %d recovers", v.name, i)
			after[v.hint] += a / runs
			rec[v.hint] += d / runs
		}
	}
	assert.Less(t, after[breakermodel.HintProbeAge], after[breakermodel.HintSlotFrees]-0.5, "peak load after the outage")
	assert.Less(t, rec[breakermodel.HintProbeAge], rec[breakermodel.HintSlotFrees]/3, "recovery")
	assert.LessOrEqual(t, rec[breakermodel.HintProbeAge], rec[breakermodel.HintNone]+time.Second, "about as fast as no hint at all")
}
