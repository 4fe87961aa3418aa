package main

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
		assert.NoError(t, wellFormed(b), name)
		assert.Contains(t, string(b), "<polyline", name)
	}
	rows := readCSV(t, filepath.Join(dir, "run1.csv"))
	assert.Len(t, rows, 1+len(variants(sc))*sc.seconds(), "a header, then every variant's seconds")
	rows = readCSV(t, filepath.Join(dir, "summary.csv"))
	assert.Len(t, rows, 1+len(variants(sc)))
	rows = readCSV(t, filepath.Join(dir, "capacity-run1.csv"))
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

func wellFormed(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		if _, err := d.Token(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}

func readCSV(t *testing.T, path string) [][]string {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	return rows
}
