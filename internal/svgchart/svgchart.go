// Package svgchart draws line charts as self-contained SVG files, with no
// plotting library, for the studies under examples: the same chart code
// gives every study's figures one look, and the same input the same bytes.
package svgchart

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"unicode/utf8"
)

// Chart is a line chart, drawn as a self-contained SVG: a white background
// (so it reads on dark pages too), axes with round ticks, a title, axis
// labels and a legend. Series take the palette's colours in order, from the
// first again after the ninth.
type Chart struct {
	Title, XLabel, YLabel string
	Series                []Series
	Refs                  []Ref   // horizontal reference lines
	Band                  *Band   // a shaded range of x, such as an outage; nil for none
	YMax                  float64 // top of the y axis; 0 means fit the data
}

// Series is one line of a chart: the points (X[i], Y[i]), which must be as
// many in X as in Y.
type Series struct {
	Name string
	X, Y []float64
	Dash string // SVG stroke-dasharray, such as "7 4"; empty draws a solid line
}

// Ref is a dashed horizontal line at Y.
type Ref struct {
	Y     float64
	Label string
}

// Band shades x in [From, To].
type Band struct {
	From, To float64
	Label    string
}

// palette has colours that stay distinct for most forms of colour blindness
// (Okabe and Ito).
var palette = []string{"#D55E00", "#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999", "#882255"}

const (
	svgW, svgH                   = 760, 460
	padL, padR, padTop, padBelow = 80, 24, 48, 56
)

// SVG renders the chart. A chart with no points has the x axis [0, 1], one
// whose points share one x the axis [x, x+1], and one whose values are all
// 0 the y axis [0, 1]. Text is escaped, so titles and names may hold any
// characters.
func (c Chart) SVG() []byte {
	xmin, xmax, ymax := math.Inf(1), math.Inf(-1), 0.0
	for _, s := range c.Series {
		for i := range s.X {
			xmin, xmax = min(xmin, s.X[i]), max(xmax, s.X[i])
			ymax = max(ymax, s.Y[i])
		}
	}
	for _, r := range c.Refs {
		ymax = max(ymax, r.Y)
	}
	if c.YMax > 0 {
		ymax = c.YMax
	}
	if math.IsInf(xmin, 1) { // no points
		xmin, xmax = 0, 1
	}
	if xmax <= xmin {
		xmax = xmin + 1
	}
	ystep := niceStep(ymax / 5)
	ymax = math.Ceil(ymax/ystep) * ystep
	if ymax == 0 {
		ymax = 1
	}
	pw, ph := float64(svgW-padL-padR), float64(svgH-padTop-padBelow)
	px := func(x float64) float64 { return padL + (x-xmin)/(xmax-xmin)*pw }
	py := func(y float64) float64 { return padTop + ph - min(y, ymax)/ymax*ph }

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="Helvetica, Arial, sans-serif" font-size="13">`+"\n", svgW, svgH, svgW, svgH)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="28" text-anchor="middle" font-size="16" font-weight="bold">%s</text>`+"\n", svgW/2, esc(c.Title))
	if c.Band != nil {
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%.1f" fill="#999999" fill-opacity="0.18"/>`+"\n",
			px(c.Band.From), padTop, px(c.Band.To)-px(c.Band.From), ph)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="#555555">%s</text>`+"\n",
			(px(c.Band.From)+px(c.Band.To))/2, padTop+16, esc(c.Band.Label))
	}
	// Grid and y ticks.
	for y := 0.0; y <= ymax+ystep/2; y += ystep {
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e4e4e4"/>`+"\n", padL, py(y), padL+pw, py(y))
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", padL-6, py(y)+4, tick(y))
	}
	// x ticks.
	xstep := niceStep((xmax - xmin) / 8)
	for x := math.Ceil(xmin/xstep) * xstep; x <= xmax+xstep/1e6; x += xstep {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#333333"/>`+"\n", px(x), padTop+ph, px(x), padTop+ph+5)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", px(x), padTop+ph+19, tick(x))
	}
	// Axes and labels.
	fmt.Fprintf(&b, `<path d="M%d %d V%.1f H%.1f" fill="none" stroke="#333333"/>`+"\n", padL, padTop, padTop+ph, padL+pw)
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", padL+pw/2, svgH-12, esc(c.XLabel))
	fmt.Fprintf(&b, `<text transform="translate(18 %.1f) rotate(-90)" text-anchor="middle">%s</text>`+"\n", padTop+ph/2, esc(c.YLabel))
	for _, r := range c.Refs {
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#555555" stroke-dasharray="5 4"/>`+"\n", padL, py(r.Y), padL+pw, py(r.Y))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end" fill="#555555" font-size="11">%s</text>`+"\n", padL+pw-4, py(r.Y)-4, esc(r.Label))
	}
	// Lines.
	for i, s := range c.Series {
		col := palette[i%len(palette)]
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" stroke-linejoin="round"%s points="`, col, dashAttr(s.Dash))
		for j := range s.X {
			fmt.Fprintf(&b, "%.1f,%.1f ", px(s.X[j]), py(s.Y[j]))
		}
		b.WriteString(`"/>` + "\n")
	}
	// Legend, top left inside the plot.
	lx, ly := float64(padL+14), float64(padTop+14)
	if c.Band != nil {
		ly += 16
	}
	fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%d" height="%d" fill="#ffffff" fill-opacity="0.85" stroke="#cccccc"/>`+"\n", lx-8, ly-12, legendWidth(c.Series), 20*len(c.Series)+6)
	for i, s := range c.Series {
		y := ly + float64(20*i)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="3"%s/>`+"\n", lx, y, lx+22, y, palette[i%len(palette)], dashAttr(s.Dash))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%s</text>`+"\n", lx+30, y+4, esc(s.Name))
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

// legendWidth returns the width of a legend box that holds the longest
// series name: 190, or more at about 7 units per character of 13-point text
// after the 30-unit swatch.
func legendWidth(ss []Series) int {
	w := 190
	for _, s := range ss {
		w = max(w, 30+7*utf8.RuneCountInString(s.Name)+12)
	}
	return w
}

// dashAttr returns the stroke-dasharray attribute for dash, or nothing for
// a solid line.
func dashAttr(dash string) string {
	if dash == "" {
		return ""
	}
	return fmt.Sprintf(` stroke-dasharray="%s"`, esc(dash))
}

// niceStep returns the smallest of 1, 2 or 5 times a power of ten that is
// at least raw.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

// tick formats an axis value without needless decimals.
func tick(v float64) string {
	if math.Abs(v-math.Round(v)) < 1e-9 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%g", math.Round(v*1000)/1000)
}

func esc(s string) string { return html.EscapeString(s) }
