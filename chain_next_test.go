package resilience_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/fallback"
	"github.com/magicmagnets/resilience/retry"
)

// nextRecorder is a policy with DoNext that records what Chain gave it.
type nextRecorder struct {
	viaDo, viaNext int
	next           resilience.Policy
}

func (r *nextRecorder) Do(ctx context.Context, fn resilience.Func) error {
	r.viaDo++
	return fn(ctx)
}

func (r *nextRecorder) DoNext(ctx context.Context, next resilience.Policy, fn resilience.Func) error {
	r.viaNext++
	r.next = next
	return next.Do(ctx, fn)
}

func TestChainHandsTheRestOfTheChainToDoNext(t *testing.T) {
	outer, inner := &nextRecorder{}, &nextRecorder{}
	calls := 0

	err := resilience.Chain(outer, inner).Do(context.Background(), func(context.Context) error { calls++; return nil })

	assert.NoError(t, err)
	assert.Equal(t, 1, calls)
	assert.Equal(t, 1, outer.viaNext)
	assert.Zero(t, outer.viaDo)
	assert.Same(t, inner, outer.next, "the last policy is its own tail")
	assert.Equal(t, 1, inner.viaDo, "the innermost policy runs fn with Do")
}

func TestChainOfModulePoliciesAllocatesNoClosures(t *testing.T) {
	r := retry.New(retry.Config{Backoff: backoff.Constant(0)})
	b := breaker.New(breaker.Config{})
	ctx := context.Background()
	ok := func(context.Context) error { return nil }
	p := resilience.Chain(r, b)
	alone := testing.AllocsPerRun(1000, func() { _ = r.Do(ctx, ok) })

	chained := testing.AllocsPerRun(1000, func() { _ = p.Do(ctx, ok) })

	assert.Equal(t, alone, chained, "only the retry's attempt context")
}

// TestFallbackComposesWithoutClosures: fallback outermost, around retry and
// breaker, allocates no more than the retry alone (its attempt context).
func TestFallbackComposesWithoutClosures(t *testing.T) {
	ctx := context.Background()
	ok := func(context.Context) error { return nil }
	fb := fallback.New(fallback.Config{Fallback: func(context.Context, error) error { return nil }})
	r := retry.New(retry.Config{})
	p := resilience.Chain(fb, r, breaker.New(breaker.Config{}))

	alone := testing.AllocsPerRun(1000, func() { _ = r.Do(ctx, ok) })
	chained := testing.AllocsPerRun(1000, func() { _ = p.Do(ctx, ok) })

	assert.Equal(t, alone, chained)
}
