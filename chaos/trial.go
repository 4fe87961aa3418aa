package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2/client"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/pgstore"
)

// options bound the trial.
type options struct {
	orders      int           // keyed orders per store, over all fault phases
	concurrency int           // orders in flight per client
	faultFor    time.Duration // how long each phase's fault lasts
	lease       time.Duration // the replicas' idempotency lease
	pgConns     int32         // each replica's PostgreSQL pool size
	hungAfter   time.Duration // an order that takes longer has hung
}

// orderRec is one order and what became of it.
type orderRec struct {
	body      order
	key       string // the idempotency key; empty for the naive client
	phase     int
	first     outcome // the order's own call, during its phase
	resent    bool
	final     outcome // the clean-network pass's call, if resent
	confirmed bool
	hung      bool
	phantom   bool // confirmed with a charge id the ledger does not know
}

// trial is one store's run: two replicas behind proxies, their store
// connections behind proxies of their own, and both clients.
type trial struct {
	store  string
	o      options
	tp     *toxiproxy.Client
	ps     *procs
	ledger *ledger
	lurl   string // the ledger's base URL
	exe    string // this program, re-executed as a replica
	out    io.Writer

	httpProxy  [2]*toxiproxy.Proxy
	storeProxy [2]*toxiproxy.Proxy
	replicas   [2]*proc
	direct     [2]string // each replica's own address, no proxy

	resilient, naive client
	partial          []added // the running phase's toxics with a toxicity below 1
}

func (t *trial) httpProxies() []*toxiproxy.Proxy  { return t.httpProxy[:] }
func (t *trial) storeProxies() []*toxiproxy.Proxy { return t.storeProxy[:] }

var replicaNames = [2]string{"a", "b"}

// setUp creates the proxies, starts the replicas and makes the clients.
func (t *trial) setUp(ctx context.Context) error {
	upstream, err := storeUpstream(t.store)
	if err != nil {
		return err
	}
	if t.store == "pg" {
		if err := migrate(ctx); err != nil {
			return err
		}
	}
	var targets []string
	for i, name := range replicaNames {
		sp, err := t.tp.CreateProxy(t.store+"-store-"+name, "127.0.0.1:0", upstream)
		if err != nil {
			return fmt.Errorf("store proxy: %w", err)
		}
		t.storeProxy[i] = sp
		pr, addr, err := t.ps.start(ctx, t.store+"-replica-"+name, true, t.exe,
			"-replica", name, "-store", t.store, "-store-addr", sp.Listen, "-ledger", t.lurl,
			"-lease", t.o.lease.String(), "-pg-conns", strconv.Itoa(int(t.o.pgConns)))
		if err != nil {
			return err
		}
		t.replicas[i], t.direct[i] = pr, addr
		hp, err := t.tp.CreateProxy(t.store+"-http-"+name, "127.0.0.1:0", addr)
		if err != nil {
			return fmt.Errorf("replica proxy: %w", err)
		}
		t.httpProxy[i] = hp
		targets = append(targets, hp.Listen)
	}
	t.resilient = newResilientClient(targets)
	t.naive = newNaiveClient(targets)
	return nil
}

// tearDown stops the replicas by PID and deletes the proxies.
func (t *trial) tearDown() {
	for _, c := range []client{t.resilient, t.naive} {
		if c != nil {
			c.close()
		}
	}
	for _, r := range t.replicas {
		if r != nil {
			r.stop()
		}
	}
	for _, p := range append(t.httpProxies(), t.storeProxies()...) {
		if p != nil {
			_ = p.Delete()
		}
	}
}

// storeUpstream returns the host:port of the store's server.
func storeUpstream(store string) (string, error) {
	env := map[string]string{"redis": "REDIS_URL", "pg": "DATABASE_URL"}[store]
	u, err := url.Parse(os.Getenv(env))
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("%s is not set to a server URL (run under .ci/services.sh): %q", env, os.Getenv(env))
	}
	if _, _, err := net.SplitHostPort(u.Host); err != nil {
		return "", fmt.Errorf("%s: %w", env, err)
	}
	return u.Host, nil
}

// migrate creates pgstore's table, directly (not through a proxy).
func migrate(ctx context.Context) error {
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		return err
	}
	defer pool.Close()
	return pgstore.Migrate(ctx, pool)
}

// run drives the orders through every phase, each followed by its
// clean-network pass, then the takeover, and returns the figures per phase.
func (t *trial) run(ctx context.Context) ([]row, takeover, []string, error) {
	per := max(1, t.o.orders/len(phases))
	var resilient, naive [][]*orderRec
	for i, ph := range phases {
		start := time.Now()
		r, n, err := t.runPhase(ctx, i, ph, per)
		if err != nil {
			return nil, takeover{}, nil, fmt.Errorf("%s: %w", ph.name, err)
		}
		fmt.Fprintf(t.out, "  %s: %s (%v)\n", t.store, ph.name, time.Since(start).Round(100*time.Millisecond))
		resilient, naive = append(resilient, r), append(naive, n)
	}
	start := time.Now()
	tk := t.takeover(ctx)
	faultsEnded := time.Now()
	fmt.Fprintf(t.out, "  %s: takeover (%v)\n", t.store, time.Since(start).Round(100*time.Millisecond))
	if err := t.tp.ResetState(); err != nil {
		return nil, tk, nil, err
	}
	// Once every lease of the fault phases has ended, every keyed order is
	// sent once more: a key left in progress by an outcome that was never
	// recorded would now run again, and show as charged twice.
	start = time.Now()
	if err := pause(ctx, time.Until(faultsEnded.Add(t.o.lease+time.Second))); err != nil {
		return nil, tk, nil, err
	}
	var all []*orderRec
	for _, r := range resilient {
		all = append(all, r...)
	}
	replayed := t.latePass(ctx, all)
	fmt.Fprintf(t.out, "  %s: every keyed order sent again after the lease: %d of %d replayed (%v)\n",
		t.store, replayed, len(all), time.Since(start).Round(100*time.Millisecond))
	var rows []row
	var problems []string
	for i, ph := range phases {
		rf, rp := t.figures(resilient[i])
		nf, _ := t.figures(naive[i])
		rows = append(rows, row{Phase: ph.name, Resilient: rf, Naive: nf})
		for _, p := range rp {
			problems = append(problems, ph.name+": "+p)
		}
	}
	return rows, tk, problems, nil
}

// runPhase applies the phase's fault, sends n orders from each client,
// removes the fault once its duration has passed, waits for every order,
// and then re-sends those unconfirmed on the clean network.
func (t *trial) runPhase(ctx context.Context, i int, ph phase, n int) (resilient, naive []*orderRec, err error) {
	for j := range n {
		id := fmt.Sprintf("%s-%d-%d", t.store, i, j)
		keyed := order{OrderID: "r-" + id, AmountCents: orderAmount, FailAfterCharge: j%failAfterChargeEvery == failAfterChargeEvery/2}
		resilient = append(resilient, &orderRec{body: keyed, key: idempotency.NewKey(), phase: i})
		naive = append(naive, &orderRec{body: order{OrderID: "n-" + id, AmountCents: orderAmount}, phase: i})
	}
	t.partial = nil
	if !ph.midCharge {
		if err := ph.apply(t); err != nil {
			return nil, nil, err
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { t.dispatch(ctx, t.resilient, resilient) })
	wg.Go(func() { t.dispatch(ctx, t.naive, naive) })
	clean := time.Now()
	if ph.midCharge {
		t.waitCharges(ctx, resilient, max(1, t.o.concurrency/4))
		err = ph.apply(t)
		// A claim the cut caught on its way, which the store took and whose
		// reply was lost, stays in progress until its lease ends: the clean
		// pass waits that out.
		clean = time.Now().Add(t.o.lease)
	}
	ended, rerr := t.redraw(ctx)
	if err == nil {
		err = rerr
	}
	if rerr := t.tp.ResetState(); err == nil {
		err = rerr
	}
	wg.Wait()
	if ended != nil {
		return nil, nil, ended
	}
	if err != nil {
		return nil, nil, err
	}
	// Leave the replicas a moment to see the network back.
	if err := pause(ctx, max(cleanAfter, time.Until(clean.Add(cleanAfter)))); err != nil {
		return nil, nil, err
	}
	wg.Go(func() { t.cleanPass(ctx, t.resilient, resilient) })
	wg.Go(func() { t.cleanPass(ctx, t.naive, naive) })
	wg.Wait()
	return resilient, naive, ctx.Err()
}

// failAfterChargeEvery: one keyed order in this many, in every phase, is
// answered 500 after its charge (order.FailAfterCharge).
const failAfterChargeEvery = 20

// waitCharges waits until n of orders have been charged, for at most a
// second.
func (t *trial) waitCharges(ctx context.Context, orders []*orderRec, n int) {
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		charged := 0
		for _, o := range orders {
			if t.ledger.times(o.body.OrderID) > 0 {
				charged++
			}
		}
		if charged >= n {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// cleanAfter is how long after a phase's fault and orders have ended its
// clean-network pass starts.
const cleanAfter = time.Second

// redraw draws the phase's partial toxics again every redrawEvery until the
// fault's duration has passed. It returns ctx's error if ctx ended first,
// and the first error of Toxiproxy.
func (t *trial) redraw(ctx context.Context) (ended, err error) {
	end := time.NewTimer(t.o.faultFor)
	defer end.Stop()
	tick := time.NewTicker(redrawEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err(), err
		case <-end.C:
			return nil, err
		case <-tick.C:
			for _, a := range t.partial {
				if rerr := a.redraw(); err == nil {
					err = rerr
				}
			}
		}
	}
}

// dispatch sends orders from c, o.concurrency at a time, each worker
// sending its next order as soon as the last one is done, and waits for
// all of them.
func (t *trial) dispatch(ctx context.Context, c client, orders []*orderRec) {
	work := make(chan *orderRec)
	var wg sync.WaitGroup
	for range t.o.concurrency {
		wg.Go(func() {
			for o := range work {
				o.first = t.call(ctx, c, o)
				o.confirmed = t.confirms(o, o.first)
			}
		})
	}
	for _, o := range orders {
		if ctx.Err() != nil {
			break
		}
		work <- o
	}
	close(work)
	wg.Wait()
}

// call sends one order, bounded well past the client's own budget, so that
// an order that hangs is seen as hung rather than waited on for ever.
func (t *trial) call(ctx context.Context, c client, o *orderRec) outcome {
	ctx, cancel := context.WithTimeout(ctx, 2*t.o.hungAfter)
	defer cancel()
	out := c.charge(ctx, o)
	if out.elapsed > t.o.hungAfter {
		o.hung = true
	}
	return out
}

// charged reports whether out is the answer o's handler gives once it has
// charged: 201, or 500 for an order that asks for it (FailAfterCharge).
func charged(o *orderRec, out outcome) bool {
	return out.err == nil && (out.status == http.StatusCreated ||
		o.body.FailAfterCharge && out.status == http.StatusInternalServerError)
}

// confirms reports whether out confirms o: charged's answer with a receipt for o
// whose charge the ledger has. A receipt the ledger does not know marks o
// as a phantom.
func (t *trial) confirms(o *orderRec, out outcome) bool {
	if !charged(o, out) {
		return false
	}
	if out.receipt.OrderID != o.body.OrderID || !t.ledger.charged(o.body.OrderID, out.receipt.ChargeID) {
		o.phantom = true
		return false
	}
	return true
}

// cleanPass sends every unconfirmed order once more from c, on a clean
// network, with its own key.
func (t *trial) cleanPass(ctx context.Context, c client, orders []*orderRec) {
	work := make(chan *orderRec)
	var wg sync.WaitGroup
	for range t.o.concurrency {
		wg.Go(func() {
			for o := range work {
				o.resent = true
				o.final = t.call(ctx, c, o)
				o.confirmed = t.confirms(o, o.final)
			}
		})
	}
	for _, o := range orders {
		if !o.confirmed && ctx.Err() == nil {
			work <- o
		}
	}
	close(work)
	wg.Wait()
}

// latePass sends every order once more with its key and returns how many
// answers were replays of a recorded response.
func (t *trial) latePass(ctx context.Context, orders []*orderRec) int {
	work := make(chan *orderRec)
	var replayed atomic.Int64
	var wg sync.WaitGroup
	for range t.o.concurrency {
		wg.Go(func() {
			for o := range work {
				if out := t.call(ctx, t.resilient, o); out.replayed {
					replayed.Add(1)
				}
			}
		})
	}
	for _, o := range orders {
		if ctx.Err() == nil {
			work <- o
		}
	}
	close(work)
	wg.Wait()
	return int(replayed.Load())
}

// figures sums a phase's orders, and describes every resilient order that
// was charged twice or lost.
func (t *trial) figures(orders []*orderRec) (figures, []string) {
	var f figures
	var problems []string
	for _, o := range orders {
		f.Orders++
		f.Retries += int(max(0, o.first.sent-1))
		f.Conflicts += int(o.first.seen409)
		if charged(o, o.first) && !o.phantom && o.first.receipt.OrderID == o.body.OrderID {
			f.FirstTry++
		}
		if o.resent {
			f.Resent++
			f.Retries += int(max(0, o.final.sent-1))
			f.Conflicts += int(o.final.seen409)
		}
		charges := t.ledger.times(o.body.OrderID)
		if charges > 1 {
			f.Double++
			f.Extra += charges - 1
		}
		lost := o.hung || o.phantom || !o.confirmed
		if lost {
			f.Lost++
		}
		if o.key != "" && (charges > 1 || lost) {
			problems = append(problems, describe(o, charges))
		}
	}
	return f, problems
}

func describe(o *orderRec, charges int) string {
	s := fmt.Sprintf("order %s key %s: charged %d times; first call: %s", o.body.OrderID, o.key, charges, o.first)
	if o.resent {
		s += fmt.Sprintf("; clean pass: %s", o.final)
	}
	if o.hung {
		s += "; hung"
	}
	if o.phantom {
		s += "; confirmed without a charge"
	}
	return s
}

func (out outcome) String() string {
	s := fmt.Sprintf("status %d after %v, %d requests, %d×409", out.status, out.elapsed.Round(time.Millisecond), out.sent, out.seen409)
	if out.err != nil {
		s += ", error: " + out.err.Error()
	}
	return s
}
