package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/magicmagnets/resilience/internal/svgchart"
)

// writePart1 writes part1.csv and the two charts of part 1.
func writePart1(dir string, pts [][]occPoint) error {
	f, err := os.Create(filepath.Join(dir, "part1.csv"))
	if err != nil {
		return err
	}
	cw := csv.NewWriter(f)
	cw.Write([]string{"strategy", "n", "runs", "calls_mean", "calls_se", "completion_mean", "completion_se"})
	for _, line := range pts {
		for _, p := range line {
			cw.Write([]string{p.Strategy, strconv.Itoa(p.N), strconv.Itoa(p.Runs),
				ff(p.Calls.Mean), ff(p.Calls.SE), ff(p.Time.Mean), ff(p.Time.SE)})
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	calls := svgchart.Chart{Title: "Total writes until every client has written", XLabel: "clients (N)", YLabel: "writes (mean of runs)"}
	times := svgchart.Chart{Title: "Time until the last client has written", XLabel: "clients (N)", YLabel: "completion time (time units)"}
	dash := map[string]string{}
	for _, s := range strategies() {
		dash[s.name] = s.dash
	}
	for _, line := range pts {
		name := line[0].Strategy
		c, t := svgchart.Series{Name: name, Dash: dash[name]}, svgchart.Series{Name: name, Dash: dash[name]}
		for _, p := range line {
			c.X, c.Y = append(c.X, float64(p.N)), append(c.Y, p.Calls.Mean)
			t.X, t.Y = append(t.X, float64(p.N)), append(t.Y, p.Time.Mean)
		}
		calls.Series, times.Series = append(calls.Series, c), append(times.Series, t)
	}
	if err := os.WriteFile(filepath.Join(dir, "part1-calls.svg"), calls.SVG(), 0o644); err != nil {
		return err
	}
	// Exponential backoff without jitter takes so long that it flattens the
	// others; a second chart leaves its line out (keeping its legend entry,
	// so that every strategy keeps its colour).
	jittered := times
	jittered.Title = "Time until the last client has written, zoomed in"
	jittered.Series = nil
	for _, s := range times.Series {
		if s.Name == "exponential" {
			s = svgchart.Series{Name: "exponential (off the chart)"}
		}
		jittered.Series = append(jittered.Series, s)
	}
	if err := os.WriteFile(filepath.Join(dir, "part1-time-jittered.svg"), jittered.SVG(), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "part1-time.svg"), times.SVG(), 0o644)
}

// part1Table returns a Markdown table of calls and completion time, mean ±
// standard error, at the given N (those present in the sweep).
func part1Table(pts [][]occPoint, at []int) string {
	var b strings.Builder
	b.WriteString("| strategy |")
	var cols []int
	for _, n := range at {
		for _, p := range pts[0] {
			if p.N == n {
				cols = append(cols, n)
				fmt.Fprintf(&b, " calls, N=%d | time, N=%d |", n, n)
			}
		}
	}
	b.WriteString("\n|---|" + strings.Repeat("--:|--:|", len(cols)) + "\n")
	for _, line := range pts {
		fmt.Fprintf(&b, "| %s |", line[0].Strategy)
		for _, n := range cols {
			for _, p := range line {
				if p.N == n {
					fmt.Fprintf(&b, " %.0f ± %.0f | %.0f ± %.0f |", p.Calls.Mean, p.Calls.SE, p.Time.Mean, p.Time.SE)
				}
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

func ff(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }
