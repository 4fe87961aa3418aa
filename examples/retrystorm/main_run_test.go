package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/internal/studytest"
)

func TestQuickRunWritesEveryOutput(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, run(options{out: dir, runs: 5, runs2: 1, seed: 1, quick: true}, &out))
	assert.Contains(t, out.String(), "| full jitter |")
	assert.Contains(t, out.String(), "| decorrelated-within jitter |")
	assert.Contains(t, out.String(), "| 3 attempts, 10% budget |")
	assert.Contains(t, out.String(), "| until the probe's slot frees |")

	for _, name := range []string{"part1-calls.svg", "part1-time.svg", "part2-load.svg", "part2-success.svg", "part2-hints-load.svg", "part2-hints-success.svg"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err, name)
		assert.NoError(t, studytest.WellFormed(b), name)
		assert.Contains(t, string(b), "<polyline", name)
	}
	rows := studytest.ReadCSV(t, filepath.Join(dir, "part1.csv"))
	assert.Len(t, rows, 1+6*3, "a header, then 6 strategies × 3 N")
	rows = studytest.ReadCSV(t, filepath.Join(dir, "part2.csv"))
	assert.Len(t, rows, 1+4*80, "a header, then 4 variants × 80 seconds")
	rows = studytest.ReadCSV(t, filepath.Join(dir, "part2-hints.csv"))
	assert.Len(t, rows, 1+3*80, "a header, then 3 half-open hint rules × 80 seconds")
	for _, name := range []string{"part1.md", "part2.md", "part2-hints.md"} {
		_, err := os.Stat(filepath.Join(dir, name))
		assert.NoError(t, err, name)
	}
}

func TestQuickRunIsDeterministicForASeed(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	require.NoError(t, run(options{out: a, runs: 3, runs2: 1, seed: 9, quick: true}, io.Discard))
	require.NoError(t, run(options{out: b, runs: 3, runs2: 1, seed: 9, quick: true}, io.Discard))
	for _, name := range []string{"part1.csv", "part2.csv", "part2-hints.csv", "part1-calls.svg", "part2-load.svg", "part2-hints-load.svg", "part1.md", "part2.md", "part2-hints.md"} {
		x, err := os.ReadFile(filepath.Join(a, name))
		require.NoError(t, err)
		y, err := os.ReadFile(filepath.Join(b, name))
		require.NoError(t, err)
		assert.Equal(t, x, y, name)
	}
}

func TestPart1ChartsDashDecorrelatedWithinInLineAndLegend(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, run(options{out: dir, runs: 2, runs2: 1, seed: 1, quick: true}, io.Discard))
	for _, name := range []string{"part1-calls.svg", "part1-time.svg", "part1-time-jittered.svg"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err, name)
		svg := string(b)
		assert.Contains(t, svg, ">decorrelated-within jitter</text>", name)
		assert.Equal(t, 2, strings.Count(svg, `stroke-dasharray="7 4"`), "%s: its line and its legend swatch, nothing else", name)
	}
}
