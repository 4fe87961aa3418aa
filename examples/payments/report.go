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
	row(tw, "shed by the bulkhead", func(s *side) string { return fmt.Sprint(s.server.card.shed()) })
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
	row(tw, "bad receipts rejected", func(s *side) string { return dashIfNaive(s, s.t.invalid.Load()) })
	row(tw, "bad receipts accepted", func(s *side) string { return fmt.Sprint(bogus(s)) })
	row(tw, "rate lookups fresh", func(s *side) string { return fmt.Sprint(s.t.fresh.Load()) })
	row(tw, "rate lookups stale", func(s *side) string {
		s.t.mu.Lock()
		age := s.t.maxAge
		s.t.mu.Unlock()
		if s.t.stale.Load() == 0 {
			return dashIfNaive(s, 0)
		}
		return fmt.Sprintf("%d (≤ %v old)", s.t.stale.Load(), age.Round(time.Millisecond))
	})
	row(tw, "rate lookups failed", func(s *side) string { return fmt.Sprint(s.t.noRate.Load()) })
	tw.Flush()

	fmt.Fprintf(w, "\nHow each kind of failure was met (faults injected: naive / resilient):\n")
	n, rs := r.naive.server, r.resilient.server
	ns, st := n.faults.Stats(), rs.faults.Stats()
	changes, path, _ := r.resilient.t.breakerStates()
	fmt.Fprintf(w, "  crash      card network down: %d / %d charges refused. Naive: kept calling, %d orders failed. Resilient: the breaker opened, rejected %d calls without sending them, probed and closed (%d state changes: %s).\n",
		n.outage.refused.Load(), rs.outage.refused.Load(), r.naive.t.failed.Load(), r.resilient.t.rejected.Load(), changes, compress(path))
	fmt.Fprintf(w, "  omission   %d / %d dropped, answered 503, stalled or lost after charging (%d / %d lost). Naive: retried without a key, %d customers charged twice. Resilient: timed out, retried with the same key; %d retried charges were replayed from the record, not repeated.\n",
		ns.Dropped+ns.Status+ns.Stalled+ns.Lost, st.Dropped+st.Status+st.Stalled+st.Lost, ns.Lost, st.Lost, doubled(n), rs.replays.Load())
	fmt.Fprintf(w, "  byzantine  %d / %d answers corrupted, truncated or with a wrong digest. Naive: accepted %d bad receipts. Resilient: validation rejected %d answers and asked again; it accepted %d bad receipts.\n",
		ns.Corrupted+ns.Truncated+ns.WrongDigest, st.Corrupted+st.Truncated+st.WrongDigest, bogus(r.naive), r.resilient.t.invalid.Load(), bogus(r.resilient))
	if r.exactlyOnce() {
		fmt.Fprintf(w, "Every order was charged exactly once by the resilient client.\n")
	}
}

func doubled(s *server) int {
	_, d, _ := s.ledger.tally()
	return d
}

func faultsMet(s *side) int64 {
	return int64(s.server.faults.Stats().Injected()) + s.server.outage.refused.Load()
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
