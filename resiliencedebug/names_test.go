package resiliencedebug_test

import (
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/resiliencedebug"
)

func TestManyNamesAreFoldedIntoOther(t *testing.T) {
	d := resiliencedebug.New(resiliencedebug.Config{MaxNames: 50})
	b := breaker.New(breaker.Config{Name: "registered", Observer: d})
	d.Register("registered", b)
	const names = 100_000
	for i := range names {
		call(d, "retry", "user-"+strconv.Itoa(i), time.Millisecond, nil)
	}
	require.NoError(t, b.Do(t.Context(), ok))

	assert.Equal(t, 51, d.Names(), "MaxNames pairs, and the registered one besides")
	snap := d.Snapshot()
	require.Len(t, snap.Policies, 52)
	other := snap.Policies[len(snap.Policies)-1]
	assert.True(t, other.Other)
	assert.Equal(t, "other", other.Name)
	assert.Equal(t, uint64(names-50), other.Calls, "the pairs past the bound count in other")
	assert.Empty(t, other.Policy)
	assert.Equal(t, uint64(1), tile(t, d, "retry", "user-0").Calls, "the first pairs keep their tiles")
	assert.Equal(t, uint64(1), tile(t, d, "breaker", "registered").Calls, "a registered policy is never folded")
}

func TestIdleNamesLeaveAndFreeTheirPlaces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := resiliencedebug.New(resiliencedebug.Config{MaxNames: 2})
		call(d, "retry", "a", time.Millisecond, nil)
		call(d, "retry", "b", time.Millisecond, nil)
		time.Sleep(time.Minute)
		call(d, "retry", "b", time.Millisecond, nil) // b stays busy
		call(d, "retry", "c", time.Millisecond, nil) // past the bound
		d.Observe(resilience.Event{Policy: "breaker", Name: "d", Kind: resilience.KindStateChange, From: "closed", To: "open"})
		time.Sleep(time.Minute)

		snap := d.Snapshot() // a has had no event for two minutes: it leaves
		var names []string
		for _, tl := range snap.Policies {
			names = append(names, tl.Name)
		}
		assert.Equal(t, []string{"b", "other"}, names)
		assert.Empty(t, snap.Policies[1].State, "other has no state of its own")

		call(d, "retry", "c", time.Millisecond, nil) // now has a place
		assert.Equal(t, uint64(1), tile(t, d, "retry", "c").Calls)
		time.Sleep(3 * time.Minute)
		assert.Empty(t, d.Snapshot().Policies, "every idle pair left, and other is quiet")
	})
}
