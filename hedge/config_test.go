package hedge_test

import (
	"context"
	"math"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/hedge"
	"github.com/magicmagnets/resilience/retry"
)

// TestConfigBadInput: every value New would panic on is reported by
// Validate with a "hedge:" message, and New panics with it.
func TestConfigBadInput(t *testing.T) {
	for name, c := range map[string]hedge.Config{
		"negative Delay":     {Delay: -time.Millisecond},
		"negative MinDelay":  {MinDelay: -1},
		"negative Quantile":  {Quantile: -0.5},
		"Quantile 1":         {Quantile: 1},
		"Quantile above 1":   {Quantile: 1.5},
		"Quantile NaN":       {Quantile: math.NaN()},
		"negative MaxHedges": {MaxHedges: -1},
	} {
		t.Run(name, func(t *testing.T) {
			err := c.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), "hedge: ")
			assert.PanicsWithValue(t, err.Error(), func() { hedge.New(c) })
		})
	}
}

// TestConfigAccepted: zero values, a nil budget and a nil RetryIf are
// valid; a huge MaxHedges is cut to MaxHedgesCap.
func TestConfigAccepted(t *testing.T) {
	for _, c := range []hedge.Config{{}, {Quantile: 0.999, MinDelay: time.Millisecond}, {MaxHedges: math.MaxInt}} {
		assert.NoError(t, c.Validate())
	}
	assert.Equal(t, hedge.MaxHedgesCap, hedge.New(hedge.Config{MaxHedges: math.MaxInt}).MaxHedges())
	assert.Equal(t, 10, hedge.MaxHedgesCap)
	assert.Equal(t, 3, hedge.New(hedge.Config{MaxHedges: 3}).MaxHedges())
}

// TestHugeMaxHedgesStartsAtMostTheCap: a call with MaxHedges MaxInt
// starts 11 attempts, no more.
func TestHugeMaxHedgesStartsAtMostTheCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := hedge.New(hedge.Config{Delay: time.Millisecond, MaxHedges: math.MaxInt})
		s := &script{steps: []func(context.Context) error{takes(time.Second)}}
		require.NoError(t, p.Do(t.Context(), s.fn))
		assert.Equal(t, 1+hedge.MaxHedgesCap, s.calls())
	})
}

// TestBudgetRefusesHedge: a hedge the budget does not cover is not sent;
// the first attempt goes on and wins, and the refusal is an event.
func TestBudgetRefusesHedge(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		b := retry.NewBudget(retry.BudgetConfig{Ratio: 0.2, MinPerSecond: -1})
		p := hedge.New(hedge.Config{Delay: 10 * time.Millisecond, Budget: b, Observer: rec})
		s := &script{steps: []func(context.Context) error{takes(50 * time.Millisecond)}}
		start := time.Now()
		require.NoError(t, p.Do(t.Context(), s.fn))
		assert.Equal(t, 50*time.Millisecond, time.Since(start))
		assert.Equal(t, 1, s.calls(), "one request earns 0.2 of a hedge: none")
		rej := rec.of(resilience.KindRejected)
		require.Len(t, rej, 1)
		assert.Equal(t, 2, rej[0].Attempt)
		assert.ErrorIs(t, rej[0].Err, retry.ErrBudgetExhausted)
	})
}

// TestBudgetExhaustedMidCall: a budget that covers one hedge of three
// lets the first through and refuses the next; the call goes on with the
// two attempts it has.
func TestBudgetExhaustedMidCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBudget(retry.BudgetConfig{Ratio: 0.2, MinPerSecond: -1})
		for range 4 {
			b.Request() // with Do's own request: 5, worth one hedge
		}
		p := hedge.New(hedge.Config{Delay: 10 * time.Millisecond, MaxHedges: 3, Budget: b})
		s := &script{steps: []func(context.Context) error{takes(time.Hour), takes(30 * time.Millisecond)}}
		start := time.Now()
		require.NoError(t, p.Do(t.Context(), s.fn))
		assert.Equal(t, 40*time.Millisecond, time.Since(start))
		assert.Equal(t, 2, s.calls())
	})
}

// TestBudgetRefusalAfterAllFailedEndsTheCall: when the only attempt has
// failed and the budget refuses the hedge that failure would start, the
// call ends with the failure.
func TestBudgetRefusalAfterAllFailedEndsTheCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := retry.NewBudget(retry.BudgetConfig{Ratio: 0.2, MinPerSecond: -1})
		p := hedge.New(hedge.Config{Delay: 10 * time.Millisecond, Budget: b})
		s := &script{steps: []func(context.Context) error{fails(time.Millisecond, errFlaky)}}
		assert.ErrorIs(t, p.Do(t.Context(), s.fn), errFlaky)
		assert.Equal(t, 1, s.calls())
	})
}

// TestQuantileDelayFollowsLatencies: before enough samples the delay is
// Delay; after 20 calls of 1..20 ms, the 0.95 delay is 19 ms; MinDelay is
// a floor; and a call then hedges at that delay.
func TestQuantileDelayFollowsLatencies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := hedge.New(hedge.Config{Quantile: 0.95, Delay: 7 * time.Millisecond})
		for i := range 19 {
			require.NoError(t, p.Do(t.Context(), func(ctx context.Context) error { return work(ctx, time.Duration(i+1)*time.Millisecond) }))
			assert.Equal(t, 7*time.Millisecond, p.Delay(), "after %d samples", i+1)
		}
		require.NoError(t, p.Do(t.Context(), func(ctx context.Context) error { return work(ctx, 20*time.Millisecond) }))
		assert.Equal(t, 19*time.Millisecond, p.Delay())

		rec := &recorder{}
		floor := hedge.New(hedge.Config{Quantile: 0.5, MinDelay: 4 * time.Millisecond, Observer: rec})
		assert.Equal(t, 4*time.Millisecond, floor.Delay(), "no samples, no Delay: MinDelay")
		for range 10 {
			require.NoError(t, floor.Do(t.Context(), func(ctx context.Context) error { return work(ctx, time.Millisecond) }))
		}
		assert.Equal(t, 4*time.Millisecond, floor.Delay(), "the median is 1ms, the floor 4ms")
		s := &script{steps: []func(context.Context) error{takes(time.Hour), takes(time.Millisecond)}}
		require.NoError(t, floor.Do(t.Context(), s.fn))
		hedges := rec.of(resilience.KindHedge)
		require.Len(t, hedges, 1)
		assert.Equal(t, 4*time.Millisecond, hedges[0].Delay)
	})
}
