package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// figures are what one client's orders of one phase came to, once the
// clean-network pass is over.
type figures struct {
	Orders    int // orders sent
	FirstTry  int // confirmed by the order's own call, during the phase
	Retries   int // HTTP requests beyond one per call, phase and clean pass
	Conflicts int // 409 answers seen
	Resent    int // orders re-sent in the clean-network pass
	Double    int // orders charged more than once
	Extra     int // charges beyond the first, over all orders
	Lost      int // hung, confirmed without a charge, or still unconfirmed after the clean pass
}

func (f figures) add(g figures) figures {
	return figures{
		Orders:    f.Orders + g.Orders,
		FirstTry:  f.FirstTry + g.FirstTry,
		Retries:   f.Retries + g.Retries,
		Conflicts: f.Conflicts + g.Conflicts,
		Resent:    f.Resent + g.Resent,
		Double:    f.Double + g.Double,
		Extra:     f.Extra + g.Extra,
		Lost:      f.Lost + g.Lost,
	}
}

// row is one phase's figures, the resilient client's beside the naive one's.
type row struct {
	Phase     string
	Resilient figures
	Naive     figures
}

// total sums rows.
func total(rows []row) row {
	t := row{Phase: "total"}
	for _, r := range rows {
		t.Resilient = t.Resilient.add(r.Resilient)
		t.Naive = t.Naive.add(r.Naive)
	}
	return t
}

// writeTable prints rows and their total as an aligned table, the resilient
// client's figures on the left and the naive client's on the right.
func writeTable(w io.Writer, title string, rows []row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	line := func(cells ...any) {
		for _, c := range cells {
			fmt.Fprint(tw, c, "\t")
		}
		fmt.Fprintln(tw)
	}
	line(title, "", "|", "resilient", "", "", "", "", "", "|", "naive", "", "", "", "", "")
	line("phase", "orders", "|", "first try", "retries", "409s", "resent", "double", "lost", "|", "first try", "retries", "resent", "double", "extra", "lost")
	for _, r := range append(rows, total(rows)) {
		s, n := r.Resilient, r.Naive
		line(r.Phase, s.Orders, "|", s.FirstTry, s.Retries, s.Conflicts, s.Resent, s.Double, s.Lost,
			"|", n.FirstTry, n.Retries, n.Resent, n.Double, n.Extra, n.Lost)
	}
	return tw.Flush()
}

// takeover is what the takeover phase saw: a replica cut off from the store
// for longer than the lease while it held a charge back, and the other
// replica taking the key over.
type takeover struct {
	Key          string
	StaleFence   int64 // the cut-off owner's fence
	NewFence     int64 // the fence the takeover ran with
	Charges      int   // charges of the order in the ledger
	StaleRefused int   // writes of the stale owner the ledger refused
	Replayed     bool  // the stale replica, back on the store, replays the takeover's receipt
	StaleTold    bool  // the stale owner's context was cancelled with ErrLockLost before its late write
	Err          error // what went wrong running the phase, if anything
}

// passed reports whether the takeover ran with a higher fence, the ledger
// refused the stale owner's write, the order was charged exactly once and
// the stale replica replays the new owner's answer.
func (t takeover) passed() bool {
	return t.Err == nil && t.NewFence > t.StaleFence && t.StaleRefused > 0 && t.Charges == 1 && t.Replayed && t.StaleTold
}

func (t takeover) String() string {
	verdict := "passed"
	if !t.passed() {
		verdict = "FAILED"
	}
	s := fmt.Sprintf("takeover: stale owner's fence %d, takeover's fence %d, charges %d, stale writes refused %d, stale owner told its lease was lost: %t, replayed by the stale replica: %t — %s",
		t.StaleFence, t.NewFence, t.Charges, t.StaleRefused, t.StaleTold, t.Replayed, verdict)
	if t.Err != nil {
		s += " (" + t.Err.Error() + ")"
	}
	return s
}

// verdict returns an error naming every failure of the resilient client:
// a key charged twice, a lost order, a failed takeover.
func verdict(store string, rows []row, tk takeover) error {
	var bad []string
	for _, r := range rows {
		if r.Resilient.Double > 0 {
			bad = append(bad, fmt.Sprintf("%s: %d keys charged twice", r.Phase, r.Resilient.Double))
		}
		if r.Resilient.Lost > 0 {
			bad = append(bad, fmt.Sprintf("%s: %d orders lost", r.Phase, r.Resilient.Lost))
		}
	}
	if !tk.passed() {
		bad = append(bad, "takeover failed")
	}
	if len(bad) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %s", store, strings.Join(bad, "; "))
}
