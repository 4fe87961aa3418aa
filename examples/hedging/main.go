// Command hedging regenerates the tables and charts of docs/hedging.md with
// this module's hedge code.
//
// Part 1 simulates the setting of "The Tail at Scale" (Dean and Barroso,
// CACM 2013): a user request fans out to 1,000 servers and waits for the
// slowest, with and without hedging after a fixed 10 ms and at a quantile
// of recent latencies (the estimator package hedge uses). It runs in
// simulated time and is deterministic for a seed. Part 2 sends 10,000 real
// HTTP requests on loopback through resiliencehttp to a server that holds
// 1% of them for 500 ms, with and without a hedge policy.
//
//	go run ./examples/hedging                 # into docs/hedging
//	go run ./examples/hedging -quick -out hedging-out
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"time"
)

// options are the command-line flags.
type options struct {
	out         string
	users       int // user requests of part 1
	requests    int // HTTP requests of part 2
	concurrency int
	seed        uint64
	quick       bool
}

func main() {
	var o options
	flag.StringVar(&o.out, "out", "docs/hedging", "directory for the CSV, SVG and Markdown outputs")
	flag.IntVar(&o.users, "users", 20000, "user requests of part 1, each a fan-out of 1,000")
	flag.IntVar(&o.requests, "requests", 10000, "HTTP requests of part 2, per variant")
	flag.IntVar(&o.concurrency, "concurrency", 16, "concurrent callers of part 2")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of every random draw")
	flag.BoolVar(&o.quick, "quick", false, "a reduced run: 2,000 user requests, 1,000 HTTP requests")
	flag.Parse()
	if err := run(o, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run writes every output into o.out and a summary to w.
func run(o options, w io.Writer) error {
	if o.quick {
		o.users, o.requests = min(o.users, 2000), min(o.requests, 1000)
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	start := time.Now()
	m := paperModel()
	res1 := make([]result, 0, len(simVariants()))
	for _, v := range simVariants() {
		res1 = append(res1, simulate(m, v, o.users, fanout, o.seed))
	}
	fmt.Fprintf(w, "part 1: %d variants × %d user requests × %d sub-requests in %v\n", len(res1), o.users, fanout, time.Since(start).Round(time.Millisecond))
	t1 := part1Table(res1)
	fmt.Fprint(w, t1)
	if err := writeOutputs(o.out, "part1", t1, res1, "Part 1: a 1,000-way fan-out (simulated)"); err != nil {
		return err
	}

	start = time.Now()
	res2, err := loopback(httpVariants(), o.requests, o.concurrency, o.seed)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "part 2: %d variants × %d requests at concurrency %d in %v\n", len(res2), o.requests, o.concurrency, time.Since(start).Round(time.Millisecond))
	t2 := part2Table(res2)
	fmt.Fprint(w, t2)
	return writeOutputs(o.out, "part2", t2, res2, "Part 2: HTTP on loopback, 1% of requests held 500 ms")
}

// writeOutputs writes name.md (the table), name.csv and name.svg.
func writeOutputs(dir, name, table string, rs []result, title string) error {
	if err := os.WriteFile(filepath.Join(dir, name+".md"), []byte(table), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".csv"), []byte(csvOf(rs)), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name+".svg"), barChart(title, rs), 0o644)
}
