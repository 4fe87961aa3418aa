package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTotalSumsEveryFigure(t *testing.T) {
	rows := []row{
		{Phase: "a", Resilient: figures{1, 2, 3, 4, 5, 6, 7, 8}, Naive: figures{8, 7, 6, 5, 4, 3, 2, 1}},
		{Phase: "b", Resilient: figures{10, 20, 30, 40, 50, 60, 70, 80}, Naive: figures{1, 1, 1, 1, 1, 1, 1, 1}},
	}
	got := total(rows)
	assert.Equal(t, "total", got.Phase)
	assert.Equal(t, figures{11, 22, 33, 44, 55, 66, 77, 88}, got.Resilient)
	assert.Equal(t, figures{9, 8, 7, 6, 5, 4, 3, 2}, got.Naive)
}

func TestWriteTablePrintsEveryPhaseAndTheTotal(t *testing.T) {
	rows := []row{
		{Phase: "latency", Resilient: figures{Orders: 222, FirstTry: 220, Retries: 3, Resent: 2}, Naive: figures{Orders: 222, FirstTry: 200, Double: 4, Extra: 5, Lost: 1}},
		{Phase: "resets", Resilient: figures{Orders: 222, FirstTry: 180, Conflicts: 7}, Naive: figures{Orders: 222, Double: 30, Extra: 41}},
	}
	var b strings.Builder
	require.NoError(t, writeTable(&b, "redisstore", rows))
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	require.Len(t, lines, 5, b.String())
	assert.Contains(t, lines[0], "redisstore")
	assert.Contains(t, lines[0], "resilient")
	assert.Contains(t, lines[0], "naive")
	assert.Equal(t, []string{"latency", "222", "|", "220", "3", "0", "2", "0", "0", "|", "200", "0", "0", "4", "5", "1"}, strings.Fields(lines[2]))
	assert.Equal(t, []string{"resets", "222", "|", "180", "0", "7", "0", "0", "0", "|", "0", "0", "0", "30", "41", "0"}, strings.Fields(lines[3]))
	assert.Equal(t, []string{"total", "444", "|", "400", "3", "7", "2", "0", "0", "|", "200", "0", "0", "34", "46", "1"}, strings.Fields(lines[4]))
	// Columns line up: every row is as wide as the header row.
	for _, l := range lines[1:] {
		assert.Len(t, l, len(lines[1]), "%q", l)
	}
}

func TestVerdictFailsOnADoubleChargeALostOrderOrAFailedTakeover(t *testing.T) {
	good := takeover{StaleFence: 1, NewFence: 2, Charges: 1, StaleRefused: 1, Replayed: true, StaleTold: true}
	clean := []row{{Phase: "latency", Resilient: figures{Orders: 10}, Naive: figures{Double: 3, Lost: 2}}}
	assert.NoError(t, verdict("redis", clean, good), "the naive client's figures never fail the trial")

	doubled := []row{{Phase: "resets", Resilient: figures{Double: 1}}}
	assert.ErrorContains(t, verdict("redis", doubled, good), "resets: 1 keys charged twice")
	lost := []row{{Phase: "hangs", Resilient: figures{Lost: 2}}}
	assert.ErrorContains(t, verdict("pg", lost, good), "pg: hangs: 2 orders lost")
	assert.ErrorContains(t, verdict("pg", clean, takeover{}), "takeover failed")
}

func TestTakeoverPassesOnlyWhenTheStaleWriteIsRefusedAndChargedOnce(t *testing.T) {
	good := takeover{StaleFence: 1, NewFence: 2, Charges: 1, StaleRefused: 1, Replayed: true, StaleTold: true}
	assert.True(t, good.passed())
	assert.Contains(t, good.String(), "passed")

	for name, bad := range map[string]func(*takeover){
		"same fence":        func(t *takeover) { t.NewFence = 1 },
		"charged twice":     func(t *takeover) { t.Charges = 2 },
		"nothing refused":   func(t *takeover) { t.StaleRefused = 0 },
		"not replayed":      func(t *takeover) { t.Replayed = false },
		"error running it":  func(t *takeover) { t.Err = errors.New("boom") },
		"never charged":     func(t *takeover) { t.Charges = 0 },
		"lower fence taken": func(t *takeover) { t.NewFence = 0 },
		"owner not told":    func(t *takeover) { t.StaleTold = false },
	} {
		tk := good
		bad(&tk)
		assert.False(t, tk.passed(), name)
		assert.Contains(t, tk.String(), "FAILED", name)
	}
}
