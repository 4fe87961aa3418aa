// Command retrystorm regenerates the figures of docs/retry-storms.md with
// this module's own backoff, retry and breaker code.
//
// Part 1 reproduces the optimistic-concurrency simulation of AWS's
// "Exponential Backoff And Jitter" (2015) for its five backoff strategies
// and backoff.DecorrelatedWithin, which the study did not have. Part 2
// runs an overloaded server through a 30-second outage and compares plain
// retries, retries with a retry.Budget and retries behind a breaker, then
// the breaker variant under three rules for the hint given to callers
// turned away while a probe is in flight (part2-hints.*). Both are
// discrete-event simulations in simulated time, deterministic for a seed:
//
//	go run ./examples/retrystorm                # full sweep into docs/retry-storms
//	go run ./examples/retrystorm -quick -out storm-out
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
	out   string
	runs  int
	runs2 int
	seed  uint64
	quick bool
}

func main() {
	var o options
	flag.StringVar(&o.out, "out", "docs/retry-storms", "directory for the CSV, SVG and Markdown outputs")
	flag.IntVar(&o.runs, "runs", 100, "seeded runs per point of part 1")
	flag.IntVar(&o.runs2, "runs2", 20, "seeded runs per variant of part 2")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of every random draw")
	flag.BoolVar(&o.quick, "quick", false, "a reduced sweep: fewer N, fewer runs, a shorter part 2")
	flag.Parse()
	if err := run(o, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// run writes every output into o.out and a summary to w.
func run(o options, w io.Writer) error {
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	ns, runs := part1Ns(o.quick), o.runs
	if o.quick {
		runs = min(runs, 20)
	}
	start := time.Now()
	pts := occSweep(ns, runs, o.seed)
	fmt.Fprintf(w, "part 1: %d strategies × %d N × %d runs in %v\n", len(pts), len(ns), runs, time.Since(start).Round(time.Millisecond))
	if err := writePart1(o.out, pts); err != nil {
		return err
	}
	table := part1Table(pts, []int{50, 100, 190})
	fmt.Fprint(w, table)
	if err := os.WriteFile(filepath.Join(o.out, "part1.md"), []byte(table), 0o644); err != nil {
		return err
	}

	sc, runs2 := defaultScenario(), o.runs2
	if o.quick {
		sc.OutageAt, sc.Arrivals, runs2 = 20*time.Second, 80*time.Second, min(runs2, 3)
	}
	start = time.Now()
	res := overloadSweep(sc, variants(), runs2, o.seed)
	fmt.Fprintf(w, "part 2: %d variants × %d runs in %v\n", len(res), runs2, time.Since(start).Round(time.Millisecond))
	if err := writePart2(o.out, "part2", sc, variants(), res); err != nil {
		return err
	}
	for _, r := range res {
		if r.Variant == "3 attempts" && len(r.Stuck) > 0 {
			if err := writeStuck2(o.out, sc, o.seed, r.Stuck[0]); err != nil {
				return err
			}
		}
	}
	table = part2Table(res)
	fmt.Fprint(w, table)
	if err := os.WriteFile(filepath.Join(o.out, "part2.md"), []byte(table), 0o644); err != nil {
		return err
	}

	start = time.Now()
	hints := overloadSweep(sc, hintVariants(), runs2, o.seed)
	fmt.Fprintf(w, "part 2, the breaker's half-open hint: %d rules × %d runs in %v\n", len(hints), runs2, time.Since(start).Round(time.Millisecond))
	if err := writePart2(o.out, "part2-hints", sc, hintVariants(), hints); err != nil {
		return err
	}
	table = hintTable(hints)
	fmt.Fprint(w, table)
	return os.WriteFile(filepath.Join(o.out, "part2-hints.md"), []byte(table), 0o644)
}

// part1Ns returns the numbers of clients of part 1: 10, 20, …, 190, or a
// few of them for a quick run.
func part1Ns(quick bool) []int {
	if quick {
		return []int{10, 50, 100}
	}
	var ns []int
	for n := 10; n <= 190; n += 10 {
		ns = append(ns, n)
	}
	return ns
}
