// Command payments tells the story this library exists for, with real code
// on loopback HTTP.
//
// A client sends "charge $50". The network is unreliable, with the three
// kinds of failure: a crash (in the middle of the run the card network behind
// the server goes down for a few seconds), omissions (requests dropped, 503s,
// requests stalled past the client's timeout and — the hard case — charges
// performed whose response is lost on the way back) and byzantine answers
// (a receipt with a wrong amount or order id, a truncated body, a body that
// does not match its Content-Digest). Before each charge the client also
// looks up an exchange rate, whose source goes down with the card network.
//
// Two clients send the same orders, each to its own server with the same
// faults: a naive one (a plain http.Client that retries on failure, with no
// idempotency key) and a resilient one (the resiliencehttp Transport with a
// total timeout, retries with backoff and jitter, a circuit breaker, a
// per-attempt timeout, and one idempotency key per order, validating every
// receipt and serving the last known good exchange rate while its source is
// down). The server's idempotency middleware replays the recorded answer to
// a retried key instead of charging again. The report shows who charged whom
// how often, and how each kind of failure was survived.
//
// Read resilient.go first: it is the resilient client, whole, in one file
// to copy. naive.go is the naive client, server.go the server and its
// faults, tally.go and report.go the counting and the report.
//
//	go run ./examples/payments            # a full run, about 12 seconds
//	go run ./examples/payments -quick     # under 10 seconds
//	go run ./examples/payments -dash 127.0.0.1:6060   # watch it live (dash.go)
//
// It exits with status 1 if the resilient client double-charged anyone or
// left an order uncharged.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

func main() {
	o := defaultOptions()
	o.register(flag.CommandLine)
	flag.Parse()
	if o.quick {
		o.applyQuick()
	}
	if o.dash != "" { // dash.go
		d, err := startDashboard(o.dash, os.Stdout)
		if err != nil {
			fmt.Fprintln(os.Stderr, "payments:", err)
			os.Exit(2)
		}
		o.dashboard = d
		d.waitForViewer(30 * time.Second)
	}
	res, err := run(context.Background(), o, os.Stdout)
	o.dashboard.linger()
	if err != nil {
		fmt.Fprintln(os.Stderr, "payments:", err)
		os.Exit(2)
	}
	if !res.exactlyOnce() {
		fmt.Println("FAIL: the resilient client did not charge every order exactly once")
		os.Exit(1)
	}
}

// options are the demo's knobs; every one is a flag.
type options struct {
	orders         int
	concurrency    int
	spread         time.Duration // orders start evenly over this long
	seed           uint64
	drop           float64
	unavailable    float64
	slow           float64
	lost           float64
	corrupt        float64
	maxStale       time.Duration
	attemptTimeout time.Duration
	outageAt       time.Duration
	outageFor      time.Duration
	redisURL       string
	quick          bool
	progress       bool
	dash           string     // serve the live dashboard on this address
	dashboard      *dashboard // the dashboard -dash started; nil means none
}

func defaultOptions() options {
	return options{
		orders:         400,
		concurrency:    16,
		spread:         10 * time.Second,
		seed:           1,
		drop:           0.04,
		unavailable:    0.04,
		slow:           0.04,
		lost:           0.06,
		corrupt:        0.04,
		maxStale:       5 * time.Second,
		attemptTimeout: 250 * time.Millisecond,
		outageAt:       4 * time.Second,
		outageFor:      3 * time.Second,
		progress:       true,
	}
}

func (o *options) register(fs *flag.FlagSet) {
	fs.IntVar(&o.orders, "orders", o.orders, "orders each client sends")
	fs.IntVar(&o.concurrency, "concurrency", o.concurrency, "orders in flight at once, per client")
	fs.DurationVar(&o.spread, "spread", o.spread, "orders start evenly over this long")
	fs.Uint64Var(&o.seed, "seed", o.seed, "seed of the injected faults and the jitter: same seed, same faults")
	fs.Float64Var(&o.drop, "drop", o.drop, "share of requests whose connection is dropped")
	fs.Float64Var(&o.unavailable, "unavailable", o.unavailable, "share of requests answered 503 with Retry-After")
	fs.Float64Var(&o.slow, "slow", o.slow, "share of requests stalled past the client's attempt timeout")
	fs.Float64Var(&o.lost, "lost", o.lost, "share of charges performed whose response is lost")
	fs.Float64Var(&o.corrupt, "corrupt", o.corrupt, "share of answers corrupted: wrong amount or order id, truncated body, wrong digest")
	fs.DurationVar(&o.maxStale, "max-stale", o.maxStale, "oldest exchange rate the resilient client shows while the rate source is down")
	fs.DurationVar(&o.attemptTimeout, "attempt-timeout", o.attemptTimeout, "each attempt's timeout, both clients")
	fs.DurationVar(&o.outageAt, "outage-at", o.outageAt, "when the card network goes down, after the start")
	fs.DurationVar(&o.outageFor, "outage-for", o.outageFor, "how long it stays down")
	fs.StringVar(&o.redisURL, "redis", "", "keep idempotency records in this Redis (redis://host:port/db) instead of memory")
	fs.BoolVar(&o.quick, "quick", false, "a smaller run that takes under 10 seconds")
	fs.BoolVar(&o.progress, "progress", o.progress, "show a progress line while running")
	fs.StringVar(&o.dash, "dash", "", "serve the live dashboard on this address (host:port) while the demo runs, and after it until Ctrl-C")
}

// applyQuick shrinks the run so that it takes under 10 seconds.
func (o *options) applyQuick() {
	o.orders = 200
	o.spread = 4 * time.Second
	o.outageAt = 1500 * time.Millisecond
	o.outageFor = 1500 * time.Millisecond
}

// run starts both servers and both clients, sends every order, and prints
// the report to w.
func run(ctx context.Context, o options, w io.Writer) (*result, error) {
	// each setup is done in its own file; run only wires them together.
	return runDemo(ctx, o, w)
}
