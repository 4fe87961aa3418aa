package main

import (
	"math/rand/v2"
	"testing"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/bulkhead"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The bulkhead model must admit and refuse exactly as bulkhead.Bulkhead
// with the same MaxConcurrent and no queue, on a script of calls that
// start and finish in random order.
func TestBulkheadModelDecidesAsBulkhead(t *testing.T) {
	for _, max := range []int{1, 7, 60} {
		real := bulkhead.New(bulkhead.Config{MaxConcurrent: max})
		model := &bulkheadModel{max: max}
		r := rand.New(rand.NewPCG(5, uint64(max)))
		var inFlight []bulkhead.Permit
		var admitted, refused int
		for i := range 20000 {
			// Lean towards starting calls, so that the bulkhead fills up.
			if len(inFlight) > 0 && r.IntN(5) < 2 {
				j := r.IntN(len(inFlight))
				inFlight[j].Done()
				inFlight = append(inFlight[:j], inFlight[j+1:]...)
				continue
			}
			want := model.allow(len(inFlight))
			p, err := real.Allow()
			require.Equal(t, want, err == nil, "max %d, step %d, %d in flight", max, i, len(inFlight))
			if err != nil {
				assert.ErrorIs(t, err, resilience.ErrRejected)
				refused++
				continue
			}
			inFlight = append(inFlight, p)
			admitted++
		}
		for _, p := range inFlight {
			p.Done()
		}
		assert.Positive(t, admitted, "max %d: the script admits calls", max)
		assert.Positive(t, refused, "max %d: the script fills the bulkhead", max)
	}
}
