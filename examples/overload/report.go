package main

import (
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/magicmagnets/resilience/internal/svgchart"
)

// resultTable returns the study's main table in Markdown.
func resultTable(sc scenario, res []variantResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| variant | goodput at %g× (/s) | goodput at %g× (/s) | goodput in the %g× spike (/s) | p50 | p99 | wasted work | recovery to ≥ 90%% of the %g× goodput | runs recovered |\n", sc.Base, sc.Hold, sc.Spike, sc.Base)
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range res {
		fmt.Fprintf(&b, "| %s | %.0f | %.0f ± %.0f | %.0f ± %.0f | %s | %s | %.1f%% | %s | %d of %d |\n",
			r.Variant, r.Warm.Mean, r.Hold.Mean, r.Hold.SE, r.Spike.Mean, r.Spike.SE,
			ms(r.Latency.Quantile(0.5)), ms(r.Latency.Quantile(0.99)), 100*r.Wasted.Mean,
			recoveryCell(r), r.Recovered, r.Runs)
	}
	return b.String()
}

// acceptTable returns, per variant, the attempts the server saw per
// success during the spike: the SRE book's bound for K = 2 is about 2.
func acceptTable(sc scenario, res []variantResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| variant | attempts reaching the server per success, %g× spike |\n|---|--:|\n", sc.Spike)
	for _, r := range res {
		if r.Accept.Mean == 0 {
			fmt.Fprintf(&b, "| %s | no success |\n", r.Variant)
			continue
		}
		fmt.Fprintf(&b, "| %s | %.2f ± %.2f |\n", r.Variant, r.Accept.Mean, r.Accept.SE)
	}
	return b.String()
}

// steadyTable returns, per variant, the attempts reaching the server per
// success and the goodput in the last minute of a long overload.
func steadyTable(sc scenario, res []variantResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| variant, %g× for %v | attempts reaching the server per success, last %v | goodput, last %v (/s) |\n|---|--:|--:|\n",
		sc.Spike, sc.HoldFor+sc.SpikeFor, sc.SpikeFor, sc.SpikeFor)
	for _, r := range res {
		fmt.Fprintf(&b, "| %s | %.2f ± %.2f | %.0f ± %.0f |\n", r.Variant, r.Accept.Mean, r.Accept.SE, r.Spike.Mean, r.Spike.SE)
	}
	return b.String()
}

// shapeTable returns, per service-time shape and variant, goodput at Base
// and Hold, the mean limit at Hold and the p99 latency.
func shapeTable(sc scenario, shapes []int, res [][]variantResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| service time | variant | goodput at %g× (/s) | goodput at %g× (/s) | limit at %g× | p99 |\n|---|---|--:|--:|--:|--:|\n", sc.Base, sc.Hold, sc.Hold)
	for i, k := range shapes {
		for _, r := range res[i] {
			lim := "–"
			if r.Limit.Mean > 0 {
				lim = fmt.Sprintf("%.0f", r.Limit.Mean)
			}
			fmt.Fprintf(&b, "| %s | %s | %.0f | %.0f | %s | %s |\n", shapeName(k), r.Variant, r.Warm.Mean, r.Hold.Mean, lim, ms(r.Latency.Quantile(0.99)))
		}
	}
	return b.String()
}

// shapeName describes a service-time shape by its coefficient of
// variation.
func shapeName(k int) string {
	if k <= 1 {
		return "exponential (CV 1)"
	}
	return fmt.Sprintf("Erlang-%d (CV %.2g)", k, 1/math.Sqrt(float64(k)))
}

func ms(d time.Duration) string {
	if d == 0 {
		return "–"
	}
	return fmt.Sprintf("%d ms", d.Milliseconds())
}

// recoveryCell is the recovery time of r for a table: its mean ± its
// standard error over the runs that recovered.
func recoveryCell(r variantResult) string {
	if r.Recovered == 0 {
		return "never"
	}
	return fmt.Sprintf("%.1f ± %.1f s", r.Recovery.Mean, r.Recovery.SE)
}

// writeCSV writes every variant's first run second by second, and the
// summary over all runs.
func writeCSV(dir string, sc scenario, res []variantResult) error {
	if err := writeRunCSV(filepath.Join(dir, "run1.csv"), sc, res); err != nil {
		return err
	}
	rows := [][]string{{"variant", "runs", "warm_goodput", "hold_goodput", "hold_goodput_se", "spike_goodput", "spike_goodput_se",
		"p50_ms", "p99_ms", "wasted_share", "attempts_per_success_spike", "recovered_runs", "recovery_s", "recovery_s_se"}}
	for _, r := range res {
		rows = append(rows, []string{r.Variant, strconv.Itoa(r.Runs), ftoa(r.Warm.Mean), ftoa(r.Hold.Mean), ftoa(r.Hold.SE),
			ftoa(r.Spike.Mean), ftoa(r.Spike.SE), strconv.FormatInt(r.Latency.Quantile(0.5).Milliseconds(), 10),
			strconv.FormatInt(r.Latency.Quantile(0.99).Milliseconds(), 10), ftoa(r.Wasted.Mean), ftoa(r.Accept.Mean),
			strconv.Itoa(r.Recovered), ftoa(r.Recovery.Mean), ftoa(r.Recovery.SE)})
	}
	return writeRows(filepath.Join(dir, "summary.csv"), rows)
}

func ftoa(x float64) string { return strconv.FormatFloat(x, 'f', 4, 64) }

func writeRows(path string, rows [][]string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(f)
	if err := cw.WriteAll(rows); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeCharts draws the first run of every variant: goodput, load offered
// to the server, and the concurrency limits of the adaptive variants.
func writeCharts(dir string, sc scenario, vs []variant, res []variantResult) error {
	spike := &svgchart.Band{From: sc.spikeAt().Seconds(), To: sc.recoverAt().Seconds(), Label: fmt.Sprintf("%g× spike", sc.Spike)}
	capacity := sc.capacity()
	load := svgchart.Series{Name: "arrivals (offered load)", Dash: "7 4"}
	for s := range sc.seconds() {
		load.X = append(load.X, float64(s)+0.5)
		load.Y = append(load.Y, sc.load(time.Duration(s)*time.Second)*capacity)
	}
	// Two charts of goodput, so that eight lines stay readable.
	groups := []struct {
		file, title string
		names       []string
	}{
		{"goodput-static.svg", "Goodput: no protection, static limits, breaker", []string{"no protection", "static bulkhead", "breaker", "throttler + breaker", "throttler + bulkhead"}},
		{"goodput-adaptive.svg", "Goodput: adaptive limits and the SRE throttler", []string{"no protection", "AIMD (client)", "Vegas (server)", "Gradient2 (server)", "SRE throttler (client)"}},
	}
	for _, g := range groups {
		c := svgchart.Chart{Title: g.title + " (run 1)", XLabel: "time (s)", YLabel: "successful requests a second", Band: spike,
			Refs: []svgchart.Ref{{Y: capacity, Label: fmt.Sprintf("nominal capacity (%.0f/s)", capacity)}}, YMax: sc.Spike * capacity}
		for _, n := range g.names {
			for _, r := range res {
				if r.Variant == n {
					c.Series = append(c.Series, perSecond(n, r.First.Seconds[:sc.seconds()], func(s second) float64 { return float64(s.Succeeded) }))
				}
			}
		}
		c.Series = append(c.Series, load)
		if err := os.WriteFile(filepath.Join(dir, g.file), c.SVG(), 0o644); err != nil {
			return err
		}
	}
	offered := svgchart.Chart{Title: "Attempts reaching the server (run 1)", XLabel: "time (s)", YLabel: "attempts a second", Band: spike,
		Refs: []svgchart.Ref{{Y: capacity, Label: "nominal capacity"}}}
	limits := svgchart.Chart{Title: "Concurrency limit (run 1)", XLabel: "time (s)", YLabel: "limit (server, or sum of the clients')", Band: spike,
		Refs: []svgchart.Ref{{Y: float64(sc.Workers), Label: fmt.Sprintf("%d workers", sc.Workers)}}}
	for i, r := range res {
		offered.Series = append(offered.Series, perSecond(r.Variant, r.First.Seconds[:sc.seconds()], func(s second) float64 { return float64(s.Offered) }))
		if vs[i].server != nil || vs[i].client != nil {
			limits.Series = append(limits.Series, perSecond(r.Variant, r.First.Seconds[:sc.seconds()], func(s second) float64 { return s.Limit }))
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "offered.svg"), offered.SVG(), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "limits.svg"), limits.SVG(), 0o644)
}

// perSecond is a series of f over secs, one point in the middle of each
// second.
func perSecond(name string, secs []second, f func(second) float64) svgchart.Series {
	s := svgchart.Series{Name: name}
	for i, x := range secs {
		s.X, s.Y = append(s.X, float64(i)+0.5), append(s.Y, f(x))
	}
	return s
}

// capacityTable returns, per variant, goodput before, during and after the
// server loses half its workers, the mean limit and the p99 while it has
// lost them, the wasted work and the recovery.
func capacityTable(sc scenario, res []variantResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| variant, %g× of %d workers, %d of them for %v | goodput before (/s) | goodput with %d workers (/s) | limit with %d workers | p99 with %d workers | wasted work | recovery to ≥ 90%% of the goodput before | runs recovered |\n",
		sc.Base, sc.Workers, sc.HoldWorkers, sc.HoldFor, sc.HoldWorkers, sc.HoldWorkers, sc.HoldWorkers)
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, r := range res {
		lim := "–"
		if r.Limit.Mean > 0 {
			lim = fmt.Sprintf("%.0f", r.Limit.Mean)
		}
		fmt.Fprintf(&b, "| %s | %.0f | %.0f ± %.0f | %s | %s | %.1f%% | %s | %d of %d |\n",
			r.Variant, r.Warm.Mean, r.Hold.Mean, r.Hold.SE, lim, ms(r.Latency.Quantile(0.99)),
			100*r.Wasted.Mean, recoveryCell(r), r.Recovered, r.Runs)
	}
	return b.String()
}

// writeRunCSV writes every variant's first run second by second to path.
func writeRunCSV(path string, sc scenario, res []variantResult) error {
	rows := [][]string{{"variant", "second", "load", "workers", "arrived", "offered", "refused", "local", "served", "wasted", "succeeded", "failed", "limit"}}
	for _, r := range res {
		for s, x := range r.First.Seconds[:sc.seconds()] {
			t := time.Duration(s) * time.Second
			rows = append(rows, []string{r.Variant, strconv.Itoa(s), ftoa(sc.load(t)), strconv.Itoa(sc.workers(t)),
				strconv.Itoa(x.Arrived), strconv.Itoa(x.Offered), strconv.Itoa(x.Refused), strconv.Itoa(x.Local),
				strconv.Itoa(x.Served), strconv.Itoa(x.Wasted), strconv.Itoa(x.Succeeded), strconv.Itoa(x.Failed), ftoa(x.Limit)})
		}
	}
	return writeRows(path, rows)
}

// writeCapacityChart draws the first run of every variant of the capacity
// scenario: goodput, and the limits of the adaptive variants.
func writeCapacityChart(dir string, sc scenario, vs []variant, res []variantResult) error {
	lost := &svgchart.Band{From: sc.holdAt().Seconds(), To: sc.spikeAt().Seconds(), Label: fmt.Sprintf("%d of %d workers", sc.HoldWorkers, sc.Workers)}
	full := sc.capacity()
	good := svgchart.Chart{Title: "Goodput when the server loses half its workers (run 1)", XLabel: "time (s)", YLabel: "successful requests a second", Band: lost,
		Refs: []svgchart.Ref{{Y: full, Label: fmt.Sprintf("capacity (%.0f/s)", full)}, {Y: full / 2, Label: fmt.Sprintf("with %d workers (%.0f/s)", sc.HoldWorkers, full/2)}}, YMax: full}
	limits := svgchart.Chart{Title: "Concurrency limit when the server loses half its workers (run 1)", XLabel: "time (s)", YLabel: "limit (server, or sum of the clients')", Band: lost,
		Refs: []svgchart.Ref{{Y: float64(sc.Workers), Label: fmt.Sprintf("%d workers", sc.Workers)}, {Y: float64(sc.HoldWorkers), Label: fmt.Sprintf("%d workers", sc.HoldWorkers)}}}
	for i, r := range res {
		secs := r.First.Seconds[:sc.seconds()]
		good.Series = append(good.Series, perSecond(r.Variant, secs, func(s second) float64 { return float64(s.Succeeded) }))
		if vs[i].server != nil {
			limits.Series = append(limits.Series, perSecond(r.Variant, secs, func(s second) float64 { return s.Limit }))
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "capacity-goodput.svg"), good.SVG(), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "capacity-limits.svg"), limits.SVG(), 0o644)
}
