package main

import (
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/magicmagnets/resilience/internal/sim"
	"github.com/magicmagnets/resilience/internal/svgchart"
)

// overloadResult is what part 2 reports for one variant.
type overloadResult struct {
	Variant   string
	Seconds   []second2 // the first run, for the charts
	PeakLoad  sim.Stat  // peak offered load during the outage, × base rate
	MeanLoad  sim.Stat  // mean offered load during the outage, × base rate
	AfterLoad sim.Stat  // peak offered load after the outage, × base rate
	Recovery  sim.Stat  // seconds from the outage's end to lasting ≥ 99% success, over recovered runs
	Recovered int       // runs that recovered before arrivals stopped
	Stuck     []int     // the runs that did not
	Runs      int
}

// runSource is the random source of run i of part 2, the same for every
// variant.
func runSource(seed uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 1<<40|uint64(i)))
}

// overloadSweep runs every variant of vs runs times; run i of every variant
// draws from runSource(seed, i). The variants run in parallel;
// overloadSweep returns when all are done.
func overloadSweep(sc scenario, vs []variant, runs int, seed uint64) []overloadResult {
	out := make([]overloadResult, len(vs))
	var wg sync.WaitGroup
	for vi, v := range vs {
		wg.Go(func() {
			res := overloadResult{Variant: v.name, Runs: runs}
			var peak, mean, after, rec []float64
			for i := range runs {
				secs := overload(sc, v, runSource(seed, i))
				if i == 0 {
					res.Seconds = secs
				}
				p, m, a := loads(sc, secs)
				peak, mean, after = append(peak, p), append(mean, m), append(after, a)
				if d, ok := recovery(sc, secs); ok {
					rec = append(rec, d.Seconds())
					res.Recovered++
				} else {
					res.Stuck = append(res.Stuck, i)
				}
			}
			res.PeakLoad, res.MeanLoad, res.AfterLoad, res.Recovery = sim.Summarize(peak), sim.Summarize(mean), sim.Summarize(after), sim.Summarize(rec)
			out[vi] = res
		})
	}
	wg.Wait()
	return out
}

// loads returns the peak and mean offered load during the outage and the
// peak after it, as multiples of the base rate.
func loads(sc scenario, secs []second2) (peak, mean, after float64) {
	from, to := int(sc.OutageAt/time.Second), int((sc.OutageAt+sc.OutageFor)/time.Second)
	for s := from; s < to; s++ {
		x := float64(secs[s].Offered) / sc.Rate
		peak = max(peak, x)
		mean += x / float64(to-from)
	}
	for s := to; s < int(sc.Arrivals/time.Second); s++ {
		after = max(after, float64(secs[s].Offered)/sc.Rate)
	}
	return peak, mean, after
}

// recovery returns how long after the outage's end the success rate of the
// requests arriving each second is back at 99% or more for good (until
// arrivals stop); ok is false if it never is.
func recovery(sc scenario, secs []second2) (d time.Duration, ok bool) {
	end, last := int((sc.OutageAt+sc.OutageFor)/time.Second), int(sc.Arrivals/time.Second)
	from := last
	for s := last - 1; s >= end && successRate(secs[s]) >= 0.99; s-- {
		from = s
	}
	if from == last {
		return 0, false
	}
	return time.Duration(from-end) * time.Second, true
}

func successRate(s second2) float64 {
	if s.Arrived == 0 {
		return 1
	}
	return float64(s.Succeeded) / float64(s.Arrived)
}

// writePart2 writes prefix.csv (the first run of every variant of vs, second
// by second, from res in the same order) and its two charts.
func writePart2(dir, prefix string, sc scenario, vs []variant, res []overloadResult) error {
	f, err := os.Create(filepath.Join(dir, prefix+".csv"))
	if err != nil {
		return err
	}
	cw := csv.NewWriter(f)
	cw.Write([]string{"variant", "second", "offered", "arrived", "succeeded"})
	for _, r := range res {
		for s, x := range r.Seconds[:int(sc.Arrivals/time.Second)] {
			cw.Write([]string{r.Variant, strconv.Itoa(s), strconv.Itoa(x.Offered), strconv.Itoa(x.Arrived), strconv.Itoa(x.Succeeded)})
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
	runs := make([][]second2, len(res))
	for i, r := range res {
		runs[i] = r.Seconds
	}
	return writeCharts2(dir, prefix, "", sc, vs, runs)
}

// writeStuck2 charts every variant on run i, one in which plain retries did
// not recover, as part2-stuck-*.svg.
func writeStuck2(dir string, sc scenario, seed uint64, i int) error {
	var runs [][]second2
	vs := variants()
	for _, v := range vs {
		runs = append(runs, overload(sc, v, runSource(seed, i)))
	}
	return writeCharts2(dir, "part2-stuck", fmt.Sprintf(" (run %d)", i), sc, vs, runs)
}

// writeCharts2 draws the load and success charts of one run of every
// variant of vs (runs in the same order), as prefix-load.svg and
// prefix-success.svg.
func writeCharts2(dir, prefix, note string, sc scenario, vs []variant, runs [][]second2) error {
	outage := &svgchart.Band{From: sc.OutageAt.Seconds(), To: (sc.OutageAt + sc.OutageFor).Seconds(), Label: "outage"}
	capacity := float64(sc.Workers) / sc.Service.Seconds() / sc.Rate
	load := svgchart.Chart{Title: "Load offered to the server" + note, XLabel: "time (s)", YLabel: "attempts a second ÷ base rate", Band: outage,
		Refs: []svgchart.Ref{{Y: capacity, Label: fmt.Sprintf("server capacity (%.1f×)", capacity)}, {Y: 1, Label: "base rate"}}}
	success := svgchart.Chart{Title: "Requests that succeed, by arrival second" + note, XLabel: "time (s)", YLabel: "success rate (%)", Band: outage,
		Refs: []svgchart.Ref{{Y: 99, Label: "99%"}}, YMax: 100}
	for vi, v := range vs {
		l, s := svgchart.Series{Name: v.name}, svgchart.Series{Name: v.name}
		for i, x := range runs[vi][:int(sc.Arrivals/time.Second)] {
			t := float64(i) + 0.5
			l.X, l.Y = append(l.X, t), append(l.Y, float64(x.Offered)/sc.Rate)
			s.X, s.Y = append(s.X, t), append(s.Y, 100*successRate(x))
		}
		load.Series, success.Series = append(load.Series, l), append(success.Series, s)
	}
	if err := os.WriteFile(filepath.Join(dir, prefix+"-load.svg"), load.SVG(), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, prefix+"-success.svg"), success.SVG(), 0o644)
}

// part2Table returns a Markdown table of the results of part 2.
func part2Table(res []overloadResult) string {
	var b strings.Builder
	b.WriteString("| clients | peak load in outage | mean load in outage | peak load after | recovery to ≥ 99% success |\n|---|--:|--:|--:|--:|\n")
	for _, r := range res {
		fmt.Fprintf(&b, "| %s | %.2f× | %.2f× | %.2f× | %s |\n", r.Variant, r.PeakLoad.Mean, r.MeanLoad.Mean, r.AfterLoad.Mean, recoveryCell(r))
	}
	return b.String()
}

// hintTable returns a Markdown table of part 2's breaker variant under each
// rule for the half-open hint.
func hintTable(res []overloadResult) string {
	var b strings.Builder
	b.WriteString("| hint while half-open | peak load after | recovery to ≥ 99% success | runs recovered |\n|---|--:|--:|--:|\n")
	for _, r := range res {
		fmt.Fprintf(&b, "| %s | %.2f× | %s | %d of %d |\n", r.Variant, r.AfterLoad.Mean, recoveryCell(r), r.Recovered, r.Runs)
	}
	return b.String()
}

// recoveryCell is the recovery time of r for a table: its mean ± its
// standard error over the runs that recovered.
func recoveryCell(r overloadResult) string {
	switch {
	case r.Recovered == r.Runs:
		return fmt.Sprintf("%.1f ± %.1f s", r.Recovery.Mean, r.Recovery.SE)
	case r.Recovered > 0:
		return fmt.Sprintf("%.1f ± %.1f s in %d of %d runs, else never", r.Recovery.Mean, r.Recovery.SE, r.Recovered, r.Runs)
	}
	return "never"
}
