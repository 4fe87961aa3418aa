package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// sample is benchstat's CSV for two benchmarks and two libs, abridged from
// a real run: configuration lines, then a block per unit.
const sample = `goos: linux
goarch: amd64
,resilience,,peer,,,
,sec/op,CI,sec/op,CI,vs base,P
Fast-2,2e-08,∞,1e-07,∞,~,p=0.333 n=2
Alone-2,8e-08,∞
Par,4e-08,∞,1e-07,∞,~,p=0.333 n=2
Par-2,2e-08,∞,1.25e-07,∞,~,p=0.333 n=2
geomean,3e-08,,1e-07,,+400%,

,resilience,,peer,,,
,allocs/op,CI,allocs/op,CI,vs base,P
Fast-2,1,∞,4,∞,~,p=0.333 n=2
Alone-2,0,∞
Par,0,∞,0,∞,~,p=1.000 n=2
Par-2,0,∞,0,∞,~,p=1.000 n=2
geomean,,,,,,
`

func TestParseReadsTheCentreValueOfEveryColumnPerUnit(t *testing.T) {
	tables, err := parse(strings.NewReader(sample))

	require.NoError(t, err)
	require.Len(t, tables, 2)
	assert.Equal(t, "sec/op", tables[0].unit)
	assert.Equal(t, "allocs/op", tables[1].unit)
	assert.Equal(t, []string{"resilience", "peer"}, tables[0].cols)
	require.Len(t, tables[0].rows, 4, "geomean is not a benchmark")
	assert.Equal(t, row{"Fast-2", map[string]float64{"resilience": 2e-8, "peer": 1e-7}}, tables[0].rows[0])
	assert.Equal(t, row{"Alone-2", map[string]float64{"resilience": 8e-8}}, tables[0].rows[1])
	assert.Equal(t, map[string]float64{"resilience": 1, "peer": 4}, tables[1].rows[0].values)
}

func TestParseRejectsAValueThatIsNotANumber(t *testing.T) {
	_, err := parse(strings.NewReader(",resilience,\n,sec/op,CI\nX-2,fast,∞\n"))

	assert.ErrorContains(t, err, "ratios: X-2, resilience")
}

func TestCompareDividesOursByEveryOtherColumn(t *testing.T) {
	tables, err := parse(strings.NewReader(sample))
	require.NoError(t, err)

	cs := compare(tables, "resilience")

	require.Len(t, cs, 4)
	assert.Equal(t, comparison{"Fast-2", "peer", 20, 100, 1, 4}, roundNs(cs[0]))
	assert.Equal(t, comparison{bench: "Alone-2", oursNs: 80}, roundNs(cs[1]), "a benchmark with no peer keeps its own figures")
}

func TestScalePairsGOMAXPROCSOneWithN(t *testing.T) {
	tables, err := parse(strings.NewReader(sample))
	require.NoError(t, err)

	ss := scale(tables)

	require.Len(t, ss, 2)
	assert.Equal(t, "Par", ss[0].bench)
	assert.Equal(t, "resilience", ss[0].col)
	assert.Equal(t, "2", ss[0].procs)
	assert.InDelta(t, 40, ss[0].one, 1e-6)
	assert.InDelta(t, 20, ss[0].n, 1e-6)
}

func TestRatioFormatsFreeAndInfiniteCases(t *testing.T) {
	assert.Equal(t, "=", ratio(0, 0))
	assert.Equal(t, "∞", ratio(1, 0))
	assert.Equal(t, "0", ratio(0, 3))
	assert.Equal(t, "0.025", ratio(1, 40))
	assert.Equal(t, "1.33", ratio(4, 3))
}

// roundNs drops the float noise of the sec → ns conversion.
func roundNs(c comparison) comparison {
	c.oursNs, c.otherNs = float64(int(c.oursNs+0.5)), float64(int(c.otherNs+0.5))
	return c
}

// A benchmark that reports its own metrics without a /lib key (ratios it
// computed itself) gets blocks with no column names; they are skipped.
func TestParseSkipsBlocksWithoutLibColumns(t *testing.T) {
	in := sample + `
,,
,x-call,CI
PairedCall-2,1.02,2%
geomean,1.02,

,resilience,,peer,,,
,B/op,CI,B/op,CI,vs base,P
Fast-2,16,∞,64,∞,~,p=0.333 n=2
`
	tables, err := parse(strings.NewReader(in))

	require.NoError(t, err)
	require.Len(t, tables, 3)
	for _, tb := range tables {
		for _, r := range tb.rows {
			assert.NotEqual(t, "PairedCall-2", r.name, "a row of a block without /lib columns")
		}
	}
	assert.Equal(t, "B/op", tables[2].unit)
	assert.Equal(t, 16.0, tables[2].rows[0].values["resilience"])
}
