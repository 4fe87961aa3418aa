package svgchart_test

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/internal/svgchart"
)

// elements parses b as XML and counts its elements by name, failing the
// test if it is not well formed.
func elements(t *testing.T, b []byte) map[string]int {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(string(b)))
	n := map[string]int{}
	for {
		tok, err := d.Token()
		if err != nil {
			require.Equal(t, "EOF", err.Error(), "well-formed XML")
			return n
		}
		if se, ok := tok.(xml.StartElement); ok {
			n[se.Name.Local]++
		}
	}
}

func TestChartStructure(t *testing.T) {
	c := svgchart.Chart{
		Title: "load <during> & after", XLabel: "s", YLabel: "× base",
		Series: []svgchart.Series{
			{Name: "none", X: []float64{0, 1, 2}, Y: []float64{1, 3, 2}},
			{Name: "budget", X: []float64{0, 1, 2}, Y: []float64{1, 1.5, 1}, Dash: "7 4"},
		},
		Refs: []svgchart.Ref{{Y: 1, Label: "capacity"}},
		Band: &svgchart.Band{From: 0.5, To: 1.5, Label: "outage"},
	}
	b := c.SVG()
	n := elements(t, b)
	s := string(b)
	assert.Equal(t, 1, n["svg"])
	assert.Equal(t, 2, n["polyline"], "one line per series")
	assert.Equal(t, 3, n["rect"], "background, band and legend box")
	assert.Contains(t, s, "load &lt;during&gt; &amp; after", "the title, escaped")
	assert.Contains(t, s, `stroke-dasharray="7 4"`, "the dashed series")
	assert.Contains(t, s, ">capacity</text>")
	assert.Contains(t, s, ">outage</text>")
	// The y axis rounds 3 up to a tick: 0, 0.5, … 3.
	assert.Contains(t, s, ">3</text>")
	assert.Contains(t, s, ">0.5</text>")
	assert.Equal(t, b, c.SVG(), "the same chart, the same bytes")

	c.YMax = 10
	assert.Contains(t, string(c.SVG()), ">10</text>", "YMax sets the top of the axis")
}

// Degenerate charts still render as well-formed SVG with finite coordinates.
func TestChartDegenerate(t *testing.T) {
	for name, c := range map[string]svgchart.Chart{
		"no series": {Title: "empty"},
		"no points": {Series: []svgchart.Series{{Name: "a"}}},
		"one x":     {Series: []svgchart.Series{{Name: "a", X: []float64{5, 5}, Y: []float64{0, 0}}}},
	} {
		t.Run(name, func(t *testing.T) {
			b := c.SVG()
			elements(t, b)
			assert.NotContains(t, string(b), "NaN")
			assert.NotContains(t, string(b), "Inf")
		})
	}
}
