package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/internal/studytest"
)

// TestRunWritesEveryOutput: a small run end to end, part 2 over real
// loopback HTTP, writes both tables, CSVs and charts; the charts are
// well-formed SVG and the CSVs have a row per variant.
func TestRunWritesEveryOutput(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, run(options{out: dir, users: 100, requests: 300, concurrency: 8, seed: 1}, &out))
	assert.Contains(t, out.String(), "part 1:")
	assert.Contains(t, out.String(), "part 2:")
	for part, n := range map[string]int{"part1": len(simVariants()), "part2": len(httpVariants())} {
		table, err := os.ReadFile(filepath.Join(dir, part+".md"))
		require.NoError(t, err)
		assert.Contains(t, string(table), "| no hedging |")

		rows := studytest.ReadCSV(t, filepath.Join(dir, part+".csv"))
		assert.Len(t, rows, 1+n)

		svg, err := os.ReadFile(filepath.Join(dir, part+".svg"))
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(string(svg), "<svg "))
		require.NoError(t, studytest.WellFormed(svg), "%s.svg is well-formed", part)
	}
}

// TestLoopbackHedgingSendsEveryRequestAndHedgesSome: over real HTTP, the
// unhedged client sends exactly one request per call and the hedged ones
// a few more, within their 5% budget plus its floor; the unhedged tail
// holds the 500 ms stalls, the hedged ones do not.
func TestLoopbackHedgingSendsEveryRequestAndHedgesSome(t *testing.T) {
	rs, err := loopback(httpVariants(), 400, 8, 2)
	require.NoError(t, err)
	assert.Equal(t, 400, rs[0].Sent)
	assert.GreaterOrEqual(t, rs[0].P999, 500.0, "seed 2 stalls some of the first 400 requests")
	for _, r := range rs[1:] {
		assert.Greater(t, r.Sent, 400, r.Name)
		assert.Less(t, r.Extra(), 0.5, r.Name)
		assert.Less(t, r.P999, 250.0, r.Name)
	}
}
