// Command chaos is the real-fault suite of the idempotency guarantee: it
// drives keyed orders through two replicas of a payments handler, with
// Toxiproxy between the client and each replica and between each replica
// and its store (Redis, then PostgreSQL), through phases of network and
// store faults, and checks against a fencing ledger that no key was charged
// twice and no order was lost. A naive client's figures are shown beside.
//
// It needs REDIS_URL and DATABASE_URL (run it under .ci/services.sh, as
// `make chaos` does) and installs Toxiproxy from the Go module proxy. It
// exits non-zero on any double charge or lost order of the resilient
// client, or a failed takeover.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	var (
		rc      replicaConfig
		o       options
		stores  = flag.String("stores", "redis,pg", "stores to run, comma-separated: redis, pg")
		toxiBin = flag.String("toxiproxy", "", "path of a Toxiproxy server binary; empty installs "+toxiproxyModule)
	)
	flag.StringVar(&rc.name, "replica", "", "run as the replica of this name (used by the driver)")
	flag.StringVar(&rc.store, "store", "", "replica: the store, redis or pg")
	flag.StringVar(&rc.storeAddr, "store-addr", "", "replica: host:port of its proxy to the store")
	flag.StringVar(&rc.ledger, "ledger", "", "replica: the ledger's base URL")
	flag.DurationVar(&o.lease, "lease", 10*time.Second, "the idempotency lease; every fault phase is shorter")
	pgConns := flag.Int("pg-conns", 16, "each replica's PostgreSQL pool size")
	flag.IntVar(&o.orders, "orders", 2000, "keyed orders per store, over all fault phases (as many naive ones beside)")
	flag.IntVar(&o.concurrency, "concurrency", 32, "orders in flight per client")
	flag.DurationVar(&o.faultFor, "fault-for", 3*time.Second, "how long each phase's fault lasts")
	flag.Parse()
	o.pgConns = int32(*pgConns)
	rc.lease = o.lease
	rc.pgConns = o.pgConns

	if rc.name != "" {
		if err := runReplica(rc); err != nil {
			fmt.Fprintln(os.Stderr, "replica:", err)
			os.Exit(1)
		}
		return
	}
	o.hungAfter = 15 * time.Second // the client's 10s budget and a margin
	if o.faultFor >= o.lease {
		fmt.Fprintf(os.Stderr, "chaos: -fault-for %v must be shorter than -lease %v\n", o.faultFor, o.lease)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err := drive(ctx, o, strings.Split(*stores, ","), *toxiBin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
}

// drive runs the trial for each store and prints its tables. Every process
// it starts is stopped by PID before it returns, whatever happened.
func drive(ctx context.Context, o options, stores []string, toxiBin string, out io.Writer) (err error) {
	started := time.Now()
	dir, err := os.MkdirTemp("", "resilience-chaos-")
	if err != nil {
		return err
	}
	ps := &procs{dir: dir}
	defer func() {
		ps.stopAll()
		if err == nil {
			os.RemoveAll(dir)
		} else {
			err = fmt.Errorf("%w (process logs in %s)", err, dir)
		}
	}()
	if toxiBin == "" {
		fmt.Fprintln(out, "installing", toxiproxyModule)
		if toxiBin, err = installToxiproxy(ctx, dir); err != nil {
			return err
		}
	}
	tp, err := startToxiproxy(ctx, ps, toxiBin)
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}

	var failures []error
	for _, store := range stores {
		l := newLedger()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: l.handler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		t := &trial{store: store, o: o, tp: tp, ps: ps, ledger: l, lurl: "http://" + ln.Addr().String(), exe: exe, out: out}
		fmt.Fprintf(out, "\n%s: %d keyed and %d naive orders, %d in flight per client, %v per fault, lease %v\n",
			storeTitle(store), o.orders/len(phases)*len(phases), o.orders/len(phases)*len(phases), o.concurrency, o.faultFor, o.lease)
		storeStart := time.Now()
		rows, tk, problems, err := runTrial(ctx, t)
		_ = srv.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", store, err)
		}
		fmt.Fprintln(out)
		if err := writeTable(out, storeTitle(store), rows); err != nil {
			return err
		}
		fmt.Fprintln(out, tk)
		fmt.Fprintf(out, "stale writes refused by the ledger: %d; %s took %v\n", l.staleRefused(), store, time.Since(storeStart).Round(time.Second))
		for _, p := range problems {
			fmt.Fprintln(out, "  ", p)
		}
		if err := verdict(store, rows, tk); err != nil {
			failures = append(failures, err)
		}
	}
	fmt.Fprintf(out, "\nchaos: done in %v\n", time.Since(started).Round(time.Second))
	return errors.Join(failures...)
}

// runTrial sets up one store's trial, runs it and tears it down.
func runTrial(ctx context.Context, t *trial) ([]row, takeover, []string, error) {
	defer t.tearDown()
	if err := t.setUp(ctx); err != nil {
		return nil, takeover{}, nil, err
	}
	return t.run(ctx)
}

func storeTitle(store string) string {
	switch store {
	case "redis":
		return "redisstore"
	case "pg":
		return "pgstore"
	}
	return store
}
