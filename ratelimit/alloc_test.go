package ratelimit_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/ratelimit"
)

func TestAllowAndDoAllocateNothing(t *testing.T) {
	l := ratelimit.New(ratelimit.Config{Rate: 1e9, Burst: 1000})
	ctx := context.Background()
	assert.Zero(t, testing.AllocsPerRun(1000, func() { l.Allow() }), "Allow")
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _ = l.Do(ctx, ok) }), "Do")
	refused := func(context.Context) error { return resilience.ErrRejected }
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _ = l.Do(ctx, refused) }), "Do giving its token back")
	k := ratelimit.NewKeyed(ratelimit.Config{Rate: 1e9, Burst: 1000}, 0)
	k.Allow("tenant-1")
	assert.Zero(t, testing.AllocsPerRun(1000, func() { k.Allow("tenant-1") }), "Keyed.Allow of a known key")
	assert.Zero(t, testing.AllocsPerRun(1000, func() { _ = k.Do(ctx, "tenant-1", ok) }), "Keyed.Do of a known key")
}
