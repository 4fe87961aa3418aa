package main

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSimulationIsDeterministic: one seed, one outcome; another seed,
// another.
func TestSimulationIsDeterministic(t *testing.T) {
	v := simVariants()[2]
	a := simulate(paperModel(), v, 200, fanout, 7)
	b := simulate(paperModel(), v, 200, fanout, 7)
	c := simulate(paperModel(), v, 200, fanout, 8)
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, c)
}

// TestModelMatchesItsStatedShape: the draws have the shares the page
// states: about 1.9% at 10 ms or more, about 1 in 100,000 a stall of
// 200 ms or more, a median near 2 ms.
func TestModelMatchesItsStatedShape(t *testing.T) {
	m, rng := paperModel(), rand.New(rand.NewPCG(1, 1))
	const n = 2_000_000
	over10, stalls := 0, 0
	xs := make([]float64, n)
	for i := range n {
		x := m.draw(rng)
		xs[i] = x
		if x >= 10 {
			over10++
		}
		if x >= 200 {
			stalls++
		}
	}
	assert.InDelta(t, 0.019, float64(over10)/n, 0.001)
	assert.InDelta(t, 20, stalls, 15)
	p50, _, _ := percentiles(xs)
	assert.InDelta(t, 2, p50, 0.05)
}

// TestHedgingCutsTheFanOutTail: on the same first attempts, a hedge after
// 10 ms cuts the fan-out's 99.9th percentile more than tenfold for about
// 2% more requests, and a p95 hedge cuts it too.
func TestHedgingCutsTheFanOutTail(t *testing.T) {
	const users = 2000
	vs := simVariants()
	none := simulate(paperModel(), vs[0], users, fanout, 1)
	fixed := simulate(paperModel(), vs[1], users, fanout, 1)
	p95 := simulate(paperModel(), vs[2], users, fanout, 1)
	require.Zero(t, none.Extra())
	assert.Greater(t, none.P999, 1000.0, "the unhedged tail is seconds")
	assert.Less(t, fixed.P999, none.P999/10)
	assert.InDelta(t, 0.02, fixed.Extra(), 0.005)
	assert.Less(t, p95.P999, none.P999/10)
	assert.InDelta(t, 0.05, p95.Extra(), 0.01, "a p95 delay hedges about 5%")
}
