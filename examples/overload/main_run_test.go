package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/internal/studytest"
)

func TestQuickRunWritesEveryOutput(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, run(options{out: dir, runs: 1, seed: 1, quick: true, tiny: true}, &out))
	sc := tinyScenario()
	for _, v := range variants(sc) {
		assert.Contains(t, out.String(), "| "+v.name+" |")
	}
	assert.Contains(t, out.String(), "| variant, 3× for 3m30s |", "the long overload's table")
	assert.Contains(t, out.String(), "| Erlang-16 (CV 0.25) | Gradient2 (server) |", "the service-time table")
	assert.Contains(t, out.String(), "| variant, 0.8× of 5 workers, 2 of them for 30s |", "the capacity-change table")
	for _, name := range []string{"goodput-static.svg", "goodput-adaptive.svg", "offered.svg", "limits.svg", "capacity-goodput.svg", "capacity-limits.svg"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err, name)
		assert.NoError(t, studytest.WellFormed(b), name)
		assert.Contains(t, string(b), "<polyline", name)
	}
	rows := studytest.ReadCSV(t, filepath.Join(dir, "run1.csv"))
	assert.Len(t, rows, 1+len(variants(sc))*sc.seconds(), "a header, then every variant's seconds")
	rows = studytest.ReadCSV(t, filepath.Join(dir, "summary.csv"))
	assert.Len(t, rows, 1+len(variants(sc)))
	rows = studytest.ReadCSV(t, filepath.Join(dir, "capacity-run1.csv"))
	assert.Len(t, rows, 1+5*capacityScenario(sc).seconds(), "a header, then the seconds of the five variants of the capacity change")
	_, err := os.Stat(filepath.Join(dir, "results.md"))
	assert.NoError(t, err)
}

func TestQuickRunIsDeterministicForASeed(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	require.NoError(t, run(options{out: a, runs: 1, seed: 9, quick: true, tiny: true}, io.Discard))
	require.NoError(t, run(options{out: b, runs: 1, seed: 9, quick: true, tiny: true}, io.Discard))
	for _, name := range []string{"run1.csv", "summary.csv", "results.md", "goodput-static.svg", "limits.svg", "capacity-run1.csv", "capacity-goodput.svg"} {
		x, err := os.ReadFile(filepath.Join(a, name))
		require.NoError(t, err)
		y, err := os.ReadFile(filepath.Join(b, name))
		require.NoError(t, err)
		assert.Equal(t, x, y, name)
	}
}
