// Command overload regenerates the figures of docs/overload.md: a
// discrete-event simulation, in simulated time and deterministic for a seed,
// of a service with finite capacity whose latency grows with its queue,
// driven by clients with timeouts and retries through a ramp to twice its
// capacity, a 30-second spike at three times, and a recovery. It compares no
// protection, a static bulkhead, a breaker, AIMD, Vegas and Gradient2
// concurrency limits and the SRE book's client-side throttle, running the
// limit and throttle decisions of this module's own code
// (internal/limitalg, which package adaptive wraps) and its retry policy.
//
//	go run ./examples/overload                      # full study into docs/overload
//	go run ./examples/overload -quick -out overload-out
//	go run ./examples/overload -http -out overload-out   # real HTTP on loopback
package main

import (
	"context"
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
	out     string
	runs    int
	seed    uint64
	quick   bool
	http    bool
	httpFor time.Duration
	// tiny replaces the quick scenario with tinyScenario, for tests.
	tiny bool
}

func main() {
	var o options
	flag.StringVar(&o.out, "out", "docs/overload", "directory for the CSV, SVG and Markdown outputs")
	flag.IntVar(&o.runs, "runs", 20, "seeded runs per variant")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of every random draw")
	flag.BoolVar(&o.quick, "quick", false, "a smaller server, shorter phases and at most 3 runs per variant")
	flag.BoolVar(&o.http, "http", false, "run the HTTP part on loopback instead of the simulation")
	flag.DurationVar(&o.httpFor, "http-duration", 10*time.Second, "how long each HTTP variant is driven")
	flag.Parse()
	run := run
	if o.http {
		run = runHTTPPart
	}
	if err := run(o, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// runHTTPPart runs the HTTP part, writes its table to o.out/http.md and to w.
func runHTTPPart(o options, w io.Writer) error {
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	c := defaultHTTPConfig()
	c.Duration, c.Seed = o.httpFor, o.seed
	start := time.Now()
	res, err := runHTTP(context.Background(), c)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "http: %d variants in %v\n", len(res), time.Since(start).Round(time.Millisecond))
	table := httpTable(c, res)
	fmt.Fprint(w, table)
	return os.WriteFile(filepath.Join(o.out, "http.md"), []byte(table), 0o644)
}

// run writes every output of the simulation into o.out and a summary to w.
func run(o options, w io.Writer) error {
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	sc, runs := defaultScenario(), o.runs
	if o.quick {
		sc, runs = quickScenario(), min(runs, 3)
	}
	if o.tiny {
		sc = tinyScenario()
	}
	vs := variants(sc)
	start := time.Now()
	res := sweep(sc, vs, runs, o.seed)
	fmt.Fprintf(w, "simulation: %d variants × %d runs in %v\n", len(vs), runs, time.Since(start).Round(time.Millisecond))
	if err := writeCSV(o.out, sc, res); err != nil {
		return err
	}
	if err := writeCharts(o.out, sc, vs, res); err != nil {
		return err
	}
	table := resultTable(sc, res) + "\n" + acceptTable(sc, res)

	// The SRE book's bound once the throttle's window holds nothing but the
	// overload.
	steady := steadyScenario(sc)
	var sv []variant
	for _, v := range vs {
		if v.bulkhead > 0 {
			sv = append(sv, v)
		}
	}
	start = time.Now()
	sres := sweep(steady, sv, min(runs, 5), o.seed)
	fmt.Fprintf(w, "steady overload: %d variants × %d runs in %v\n", len(sv), min(runs, 5), time.Since(start).Round(time.Millisecond))
	table += "\n" + steadyTable(steady, sres)

	// How the limits fare when service times vary less than exponentially.
	// The exponential rows are the main sweep's.
	shapes := []int{1, 4, 16}
	var lv []variant
	var shaped [][]variantResult
	shaped = append(shaped, nil)
	for i, v := range vs {
		if v.bulkhead > 0 && !v.throttle || v.server != nil || v.client != nil {
			lv = append(lv, v)
			shaped[0] = append(shaped[0], res[i])
		}
	}
	start = time.Now()
	for _, k := range shapes[1:] {
		ssc := sc
		ssc.Shape = k
		shaped = append(shaped, sweep(ssc, lv, min(runs, 5), o.seed))
	}
	fmt.Fprintf(w, "service-time shapes: %d more shapes × %d variants × %d runs in %v\n", len(shapes)-1, len(lv), min(runs, 5), time.Since(start).Round(time.Millisecond))
	table += "\n" + shapeTable(sc, shapes, shaped)

	// Capacity that moves: the server loses half its workers for a while,
	// under a load the full server serves easily; the static bulkhead stays
	// sized for the full server.
	csc := capacityScenario(sc)
	var cv []variant
	for _, v := range vs {
		if v.bulkhead > 0 && !v.throttle || v.server != nil || v.client != nil || v.name == "no protection" {
			cv = append(cv, v)
		}
	}
	start = time.Now()
	cres := sweep(csc, cv, min(runs, 5), o.seed)
	fmt.Fprintf(w, "capacity change: %d variants × %d runs in %v\n", len(cv), min(runs, 5), time.Since(start).Round(time.Millisecond))
	if err := writeCapacityChart(o.out, csc, cv, cres); err != nil {
		return err
	}
	if err := writeRunCSV(filepath.Join(o.out, "capacity-run1.csv"), csc, cres); err != nil {
		return err
	}
	table += "\n" + capacityTable(csc, cres)
	fmt.Fprint(w, table)
	return os.WriteFile(filepath.Join(o.out, "results.md"), []byte(table), 0o644)
}
