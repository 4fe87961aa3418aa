package main

import (
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
)

// comparison is one benchmark run through ours and through one other
// column (a peer or a baseline), or through ours alone when other is "".
type comparison struct {
	bench, other           string
	oursNs, otherNs        float64
	oursAllocs, otherAlloc float64
}

// compare pairs base's time and allocations with every other column's, per
// benchmark, in the order benchstat listed them. Benchmarks that base has no
// figure for are left out.
func compare(tables []table, base string) []comparison {
	ns, allocs := find(tables, "sec/op"), find(tables, "allocs/op")
	if ns == nil {
		return nil
	}
	var out []comparison
	for _, r := range ns.rows {
		ours, ok := r.values[base]
		if !ok {
			continue
		}
		a := allocsOf(allocs, r.name)
		others := 0
		for _, col := range ns.cols {
			v, ok := r.values[col]
			if col == base || !ok {
				continue
			}
			others++
			out = append(out, comparison{r.name, col, ours * 1e9, v * 1e9, a[base], a[col]})
		}
		if others == 0 {
			out = append(out, comparison{bench: r.name, oursNs: ours * 1e9, oursAllocs: a[base]})
		}
	}
	return out
}

func find(tables []table, unit string) *table {
	for i := range tables {
		if tables[i].unit == unit {
			return &tables[i]
		}
	}
	return nil
}

func allocsOf(t *table, bench string) map[string]float64 {
	if t != nil {
		for _, r := range t.rows {
			if r.name == bench {
				return r.values
			}
		}
	}
	return map[string]float64{}
}

// procsSuffix is the -N that go test appends to a benchmark's name when it
// ran with GOMAXPROCS=N > 1.
var procsSuffix = regexp.MustCompile(`-(\d+)$`)

// scaling is a benchmark's time per op at GOMAXPROCS=1 and at N, per column.
type scaling struct {
	bench, col string
	procs      string
	one, n     float64
}

// scale finds benchmarks that ran both with GOMAXPROCS=1 (no suffix) and
// with a higher one (-cpu 1,N) and pairs their times per column.
func scale(tables []table) []scaling {
	ns := find(tables, "sec/op")
	if ns == nil {
		return nil
	}
	byName := map[string]row{}
	for _, r := range ns.rows {
		byName[r.name] = r
	}
	var out []scaling
	for _, r := range ns.rows {
		m := procsSuffix.FindStringSubmatch(r.name)
		if m == nil {
			continue
		}
		one, ok := byName[strings.TrimSuffix(r.name, m[0])]
		if !ok {
			continue
		}
		for _, col := range ns.cols {
			a, okA := one.values[col]
			b, okB := r.values[col]
			if okA && okB {
				out = append(out, scaling{one.name, col, m[1], a * 1e9, b * 1e9})
			}
		}
	}
	return out
}

// write prints the comparisons as a Markdown table of ratios ours ÷
// other, then, if any benchmark ran with -cpu 1,N, a table of how its
// throughput scales.
func write(w io.Writer, cs []comparison, ss []scaling) error {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.Debug)
	line := func(cells ...string) { fmt.Fprintln(tw, "| "+strings.Join(cells, "\t ")+"\t") }
	line("benchmark", "vs", "ours ns/op", "theirs ns/op", "ns/op ours ÷ theirs", "ours allocs/op", "theirs allocs/op", "allocs ours ÷ theirs")
	line("---", "---", "--:", "--:", "--:", "--:", "--:", "--:")
	for _, c := range cs {
		if c.other == "" {
			line(c.bench, "-", num(c.oursNs), "-", "-", count(c.oursAllocs), "-", "-")
			continue
		}
		line(c.bench, c.other, num(c.oursNs), num(c.otherNs), ratio(c.oursNs, c.otherNs),
			count(c.oursAllocs), count(c.otherAlloc), ratio(c.oursAllocs, c.otherAlloc))
	}
	if err := tw.Flush(); err != nil || len(ss) == 0 {
		return err
	}
	fmt.Fprintln(w)
	line("benchmark", "lib", "procs", "ns/op at 1", "ns/op at procs", "throughput at procs ÷ at 1")
	line("---", "---", "--:", "--:", "--:", "--:")
	for _, s := range ss {
		line(s.bench, s.col, s.procs, num(s.one), num(s.n), ratio(s.one, s.n))
	}
	return tw.Flush()
}

// num formats a time in ns with three significant digits.
func num(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// count formats an allocation count, a median that may be fractional.
func count(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// ratio formats a ÷ b; 0 ÷ 0 is "=" (both free) and a ÷ 0 is "∞".
func ratio(a, b float64) string {
	switch {
	case a == 0 && b == 0:
		return "="
	case b == 0:
		return "∞"
	case a == 0:
		return "0"
	}
	r := a / b
	if r < 0.1 {
		return fmt.Sprintf("%.3f", r)
	}
	return fmt.Sprintf("%.2f", math.Round(r*100)/100)
}
