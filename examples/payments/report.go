package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// report prints the side-by-side table.
func report(w io.Writer, r *result) {
	row := func(tw io.Writer, label string, f func(s *side) string) {
		fmt.Fprintf(tw, "%-26s\t%s\t%s\t\n", label, f(r.naive), f(r.resilient))
	}
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-26s\tnaive\tresilient\t\n", "")
	row(tw, "orders", func(*side) string { return fmt.Sprint(r.orders) })
	row(tw, "HTTP attempts sent", func(s *side) string { return fmt.Sprint(s.t.attempts.Load()) })
	row(tw, "waits before a retry", func(s *side) string { return fmt.Sprint(s.t.retries.Load()) })
	row(tw, "faults met", func(s *side) string { return fmt.Sprint(faultsMet(s)) })
	row(tw, "rejected by the breaker", func(s *side) string { return dashIfNaive(s, s.t.rejected.Load()) })
	row(tw, "breaker state changes", func(s *side) string {
		n, _, _ := s.t.breakerStates()
		return dashIfNaive(s, int64(n))
	})
	row(tw, "time taken", func(s *side) string { return s.elapsed.Round(10 * time.Millisecond).String() })
	row(tw, "charges recorded", func(s *side) string {
		c, _, _ := s.server.ledger.tally()
		return fmt.Sprint(c)
	})
	row(tw, "customers double-charged", func(s *side) string {
		_, d, extra := s.server.ledger.tally()
		if d == 0 {
			return "0"
		}
		return fmt.Sprintf("%d (+$%d.00)", d, 50*extra)
	})
	row(tw, "orders failed", func(s *side) string { return fmt.Sprint(s.t.failed.Load()) })
	tw.Flush()

	st := r.resilient.server.faults.Stats()
	fmt.Fprintf(w, "\nFaults injected on the resilient client's server: %d dropped, %d answered 503, %d stalled, %d responses lost after charging; %d charges refused while the card network was down.\n",
		st.Dropped, st.Status, st.Stalled, st.Lost, r.resilient.server.outage.refused.Load())
	if _, path, _ := r.resilient.t.breakerStates(); len(path) > 0 {
		fmt.Fprintf(w, "Resilient client's breaker: %s\n", compress(path))
	}
	if r.exactlyOnce() {
		fmt.Fprintf(w, "Every order was charged exactly once by the resilient client.\n")
	}
}

func faultsMet(s *side) int64 {
	return int64(s.server.faults.Stats().Faults()) + s.server.outage.refused.Load()
}

func dashIfNaive(s *side, n int64) string {
	if s.name == "naive" {
		return "—"
	}
	return fmt.Sprint(n)
}

// compress writes a state path such as closed → open → half-open → open
// → half-open → closed, shortening long runs of open/half-open cycles.
func compress(path []string) string {
	if len(path) <= 8 {
		return strings.Join(path, " → ")
	}
	head := strings.Join(path[:4], " → ")
	tail := strings.Join(path[len(path)-3:], " → ")
	return fmt.Sprintf("%s → … (%d more changes) … → %s", head, len(path)-7, tail)
}
