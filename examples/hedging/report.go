package main

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"strings"
)

// part1Table is the Markdown table of part 1, with the paper's row.
func part1Table(rs []result) string {
	var b strings.Builder
	b.WriteString("| variant | p50 | p99 | p99.9 | requests sent | extra |\n|---|---:|---:|---:|---:|---:|\n")
	for _, r := range rs {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | %+.1f%% |\n", r.Name, ms(r.P50), ms(r.P99), ms(r.P999), r.Sent, 100*r.Extra())
	}
	b.WriteString("| *paper, no hedging* | | | *1,800 ms* | | |\n| *paper, hedge after 10 ms* | | | *74 ms* | | *+2%* |\n")
	return b.String()
}

// part2Table is the Markdown table of part 2.
func part2Table(rs []result) string {
	var b strings.Builder
	b.WriteString("| variant | p50 | p99 | p99.9 | requests served | extra | new connections | calls/s |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rs {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %d | %+.1f%% | %d | %.0f |\n", r.Name, ms(r.P50), ms(r.P99), ms(r.P999), r.Sent, 100*r.Extra(), r.NewConns, r.PerSecond)
	}
	if len(rs) > 1 {
		for _, r := range rs[1:] {
			fmt.Fprintf(&b, "\n%s: p99.9 cut %.0f×, %+.1f%% requests.", r.Name, rs[0].P999/r.P999, 100*r.Extra())
		}
		b.WriteString("\n")
	}
	return b.String()
}

// ms formats a latency in milliseconds with three significant digits.
func ms(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.2f ms", v)
}

// csvOf is the CSV of rs.
func csvOf(rs []result) string {
	var b strings.Builder
	b.WriteString("variant,calls,p50_ms,p99_ms,p999_ms,sent,base,extra,new_conns,per_second\n")
	for _, r := range rs {
		fmt.Fprintf(&b, "%s,%d,%.4f,%.4f,%.4f,%d,%d,%.5f,%d,%.0f\n", r.Name, r.Calls, r.P50, r.P99, r.P999, r.Sent, r.Base, r.Extra(), r.NewConns, r.PerSecond)
	}
	return b.String()
}

// barChart draws p50, p99 and p99.9 of each variant as grouped bars on a
// logarithmic axis, as a self-contained SVG with a white background.
func barChart(title string, rs []result) []byte {
	const (
		w, h                   = 760.0, 420.0
		left, right, top, bott = 70.0, 20.0, 50.0, 80.0
	)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range rs {
		lo = min(lo, r.P50)
		hi = max(hi, r.P999)
	}
	d0, d1 := math.Floor(math.Log10(max(lo, 1e-3))), math.Ceil(math.Log10(max(hi, 1e-3)))
	if d1 <= d0 {
		d1 = d0 + 1
	}
	y := func(v float64) float64 {
		f := (math.Log10(max(v, 1e-3)) - d0) / (d1 - d0)
		return h - bott - f*(h-top-bott)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n", w, h, w, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%.0f" y="24" font-size="15" text-anchor="middle">%s</text>`+"\n", w/2, html.EscapeString(title))
	for d := d0; d <= d1; d++ {
		yy := y(math.Pow(10, d))
		fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#ddd"/>`+"\n", left, w-right, yy, yy)
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, yy+4, ms(math.Pow(10, d)))
	}
	fmt.Fprintf(&b, `<text x="16" y="%.0f" transform="rotate(-90 16 %.0f)" text-anchor="middle">latency (log scale)</text>`+"\n", (top+h-bott)/2, (top+h-bott)/2)
	colors := []string{"#4c78a8", "#f58518", "#e45756"}
	names := []string{"p50", "p99", "p99.9"}
	group := (w - left - right) / float64(len(rs))
	bar := group / 4.5
	for i, r := range rs {
		x0 := left + float64(i)*group + (group-3*bar)/2
		for j, v := range []float64{r.P50, r.P99, r.P999} {
			x, yy := x0+float64(j)*bar, y(v)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n", x, yy, bar-2, h-bott-yy, colors[j])
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" text-anchor="middle">%s</text>`+"\n", x+bar/2-1, yy-3, ms(v))
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="middle">%s</text>`+"\n", left+float64(i)*group+group/2, h-bott+18, html.EscapeString(r.Name))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="middle" fill="#555">%+.1f%% requests</text>`+"\n", left+float64(i)*group+group/2, h-bott+34, 100*r.Extra())
	}
	for j, n := range names {
		x := left + float64(j)*80
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="12" height="12" fill="%s"/><text x="%.0f" y="%.0f">%s</text>`+"\n", x, h-24, colors[j], x+16, h-14, n)
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}
