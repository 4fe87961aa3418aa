package ratelimit_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/ratelimit"
)

func TestMemoryStoreKeepsAtMostMaxKeys(t *testing.T) {
	const maxKeys = 500
	s := ratelimit.NewMemoryStore(maxKeys)
	l := ratelimit.Limit{Rate: 1}
	for i := range 100_000 {
		d, err := s.Take(t.Context(), "k"+strconv.Itoa(i), l, 1)
		require.NoError(t, err)
		require.True(t, d.Allowed)
	}
	assert.Equal(t, maxKeys, s.Len())
	// The most recent key is kept, with its state; the oldest was
	// forgotten and starts again.
	d, err := s.Take(t.Context(), "k99999", l, 1)
	require.NoError(t, err)
	assert.False(t, d.Allowed)
	d, err = s.Take(t.Context(), "k0", l, 1)
	require.NoError(t, err)
	assert.True(t, d.Allowed)
}

func TestMemoryStoreDefaultBoundIsTenThousand(t *testing.T) {
	s := ratelimit.NewMemoryStore(0)
	for i := range 10_001 {
		_, err := s.Take(t.Context(), strconv.Itoa(i), ratelimit.Limit{Rate: 1}, 1)
		require.NoError(t, err)
	}
	assert.Equal(t, 10_000, s.Len())
}
