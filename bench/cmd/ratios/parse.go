package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
)

// table is one unit's block of benchstat's CSV output: a row per benchmark,
// a column per value of the projected key (here /lib).
type table struct {
	unit string
	cols []string
	rows []row
}

// row is one benchmark's centre values (medians), by column.
type row struct {
	name   string
	values map[string]float64
}

// parse reads the CSV that `benchstat -format csv -col /lib` writes: lines
// of configuration (goos: ...), then for each unit a header line of column
// names, a line of units, and a line per benchmark. The first cell of every
// column group holds the centre value; the cells after it (CI, vs base, P)
// are skipped.
func parse(r io.Reader) ([]table, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	records, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("ratios: reading benchstat CSV: %w", err)
	}
	var tables []table
	var starts map[int]string // column group start index → column name
	for i := 0; i < len(records); i++ {
		rec := records[i]
		if isHeader(rec) && i+1 < len(records) && isHeader(records[i+1]) {
			t, s := header(rec, records[i+1])
			tables, starts = append(tables, t), s
			i++
			continue
		}
		if rec[0] == "" {
			// A block without a /lib column (a benchmark that reports its
			// own ratios, say): its rows compare nothing, so they are
			// skipped until the next table's header.
			starts = nil
			continue
		}
		if starts == nil || rec[0] == "geomean" || len(rec) < 2 {
			continue
		}
		values, err := cells(rec, starts)
		if err != nil {
			return nil, err
		}
		t := &tables[len(tables)-1]
		t.rows = append(t.rows, row{name: rec[0], values: values})
	}
	return tables, nil
}

// isHeader reports whether rec is a header line: an empty first cell
// followed by names.
func isHeader(rec []string) bool { return len(rec) > 1 && rec[0] == "" && rec[1] != "" }

// header reads a table's column names and unit from its two header lines.
func header(names, units []string) (table, map[int]string) {
	t := table{}
	starts := map[int]string{}
	for i, name := range names {
		if i == 0 || name == "" {
			continue
		}
		starts[i] = name
		t.cols = append(t.cols, name)
		if t.unit == "" && i < len(units) {
			t.unit = units[i]
		}
	}
	return t, starts
}

// cells reads the centre values of one benchmark line; a column the
// benchmark has no value for is left out.
func cells(rec []string, starts map[int]string) (map[string]float64, error) {
	values := map[string]float64{}
	for i, name := range starts {
		if i >= len(rec) || rec[i] == "" {
			continue
		}
		v, err := strconv.ParseFloat(rec[i], 64)
		if err != nil {
			return nil, fmt.Errorf("ratios: %s, %s: %w", rec[0], name, err)
		}
		values[name] = v
	}
	return values, nil
}
