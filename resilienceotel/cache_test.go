package resilienceotel_test

import (
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/resilienceotel"
)

func TestConcurrentObserversCountEveryEvent(t *testing.T) {
	obs, reader := setup(t)
	const goroutines, each = 8, 500
	names := []string{"a", "b", "c"}

	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				name := names[(g+i)%len(names)]
				obs.Observe(resilience.Event{Policy: "breaker", Name: name, Kind: resilience.KindStateChange, From: "closed", To: "open"})
			}
		})
	}
	wg.Wait()

	c := collect(t, reader)
	var total int64
	for _, n := range c.counts(t, "resilience.breaker.transitions") {
		total += n
	}
	assert.Equal(t, int64(goroutines*each), total)
	assert.Len(t, c.counts(t, "resilience.events"), len(names))
	assert.Equal(t, len(names), obs.Cached())
}

func TestCombinationsPastTheCacheBoundAreStillRecorded(t *testing.T) {
	obs, reader := setup(t)
	n := resilienceotel.MaxCached + 10
	for round := range 2 {
		for i := range n {
			obs.Observe(resilience.Event{Policy: "retry", Name: "dep" + strconv.Itoa(i), Kind: resilience.KindRetry})
		}
		require.Equal(t, resilienceotel.MaxCached, obs.Cached(), "round %d", round)
	}

	counts := collect(t, reader).counts(t, "resilience.events")
	require.Len(t, counts, n)
	for i := range n {
		assert.Equal(t, int64(2), counts["kind=retry,name=dep"+strconv.Itoa(i)+",policy=retry"], "dep%d", i)
	}
}

func TestFromAndToDoNotSplitOtherKinds(t *testing.T) {
	obs, reader := setup(t)
	obs.Observe(resilience.Event{Policy: "custom", Kind: resilience.KindRejected, From: "x", To: "y"})
	obs.Observe(resilience.Event{Policy: "custom", Kind: resilience.KindRejected, From: "z", To: "w"})

	assert.Equal(t, map[string]int64{"kind=rejected,policy=custom": 2}, collect(t, reader).counts(t, "resilience.events"))
	assert.Equal(t, 1, obs.Cached())
}
