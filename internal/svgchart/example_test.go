package svgchart_test

import (
	"fmt"
	"strings"

	"github.com/magicmagnets/resilience/internal/svgchart"
)

func ExampleChart_SVG() {
	c := svgchart.Chart{
		Title:  "Offered load",
		XLabel: "time (s)",
		YLabel: "× base rate",
		Series: []svgchart.Series{{Name: "no retries", X: []float64{0, 10, 20}, Y: []float64{1, 1, 1}}},
	}
	b := c.SVG()
	fmt.Println(strings.Count(string(b), "<polyline"), strings.HasSuffix(string(b), "</svg>\n"))
	// Output:
	// 1 true
}
