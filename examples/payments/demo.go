package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/magicmagnets/resilience/idempotency"
)

// side is one client, its server and what happened between them.
type side struct {
	name    string
	server  *server
	client  client
	t       *tally
	elapsed time.Duration
}

// result is the outcome of a run.
type result struct {
	orders           int
	naive, resilient *side
}

// exactlyOnce reports whether the resilient client charged every order
// exactly once and accepted only genuine receipts.
func (r *result) exactlyOnce() bool {
	charges, doubled, _ := r.resilient.server.ledger.tally()
	return doubled == 0 && charges == r.orders && r.resilient.t.failed.Load() == 0 && bogus(r.resilient) == 0
}

// bogus counts the receipts a client accepted that the server never issued
// as such: corrupted answers taken at face value.
func bogus(s *side) int {
	n := 0
	for _, rc := range s.t.accepted() {
		if !s.server.ledger.genuine(rc) {
			n++
		}
	}
	return n
}

func runDemo(ctx context.Context, o options, w io.Writer) (*result, error) {
	orders := make([]charge, o.orders)
	for i := range orders {
		orders[i] = charge{OrderID: orderID(i + 1), AmountCents: orderAmount, key: idempotency.NewKey()}
	}
	start := time.Now()
	newStore, closeStores, err := storeFactory(o.redisURL)
	if err != nil {
		return nil, err
	}
	defer closeStores()

	res := &result{orders: o.orders}
	mk := func(name string) (*side, error) {
		store, err := newStore(name)
		if err != nil {
			return nil, err
		}
		srv := startServer(serverConfig{
			store: store, seed: o.seed,
			drop: o.drop, unavailable: o.unavailable, slow: o.slow, lost: o.lost, corrupt: o.corrupt,
			stall: 4 * o.attemptTimeout, retryAfter: time.Second,
			outageAt: o.outageAt, outageFor: o.outageFor,
		}, start)
		return &side{name: name, server: srv, t: &tally{}}, nil
	}
	if res.naive, err = mk("naive"); err != nil {
		return nil, err
	}
	defer res.naive.server.Close()
	if res.resilient, err = mk("resilient"); err != nil {
		return nil, err
	}
	defer res.resilient.server.Close()

	res.naive.client = newNaiveClient(res.naive.server.URL, o.attemptTimeout, res.naive.t)
	res.resilient.client = newResilientClient(res.resilient.server.URL, resilientConfig{
		seed: o.seed, total: 30 * time.Second, attemptTimeout: o.attemptTimeout, openFor: 500 * time.Millisecond, maxStale: o.maxStale,
		base:      countingTransport{newTransport(), &res.resilient.t.attempts},
		observer:  o.dashboard.observe(res.resilient.t.observer()),
		onBreaker: o.dashboard.breaker,
	})
	o.dashboard.register("card network, naive server", res.naive.server.card.b)
	o.dashboard.register("card network, resilient server", res.resilient.server.card.b)
	defer res.naive.client.close()
	defer res.resilient.client.close()

	fmt.Fprintf(w, "Sending %d orders of $50.00 from each client (%d at a time, over %v); the card network goes down %v in, for %v.\n",
		o.orders, o.concurrency, o.spread, o.outageAt, o.outageFor)
	fmt.Fprintf(w, "Faults on every server: %.0f%% dropped, %.0f%% answered 503, %.0f%% stalled past the client's %v timeout, %.0f%% charged but the response lost, %.0f%% corrupted (seed %d).\n\n",
		100*o.drop, 100*o.unavailable, 100*o.slow, o.attemptTimeout, 100*o.lost, 100*o.corrupt, o.seed)

	stopProgress := func() {}
	if o.progress {
		stopProgress = showProgress(w, start, o.orders, res)
	}
	var wg sync.WaitGroup
	for _, s := range []*side{res.naive, res.resilient} {
		wg.Go(func() { s.elapsed = sendAll(ctx, s, orders, o.concurrency, o.spread) })
	}
	wg.Wait()
	stopProgress()
	report(w, res)
	return res, nil
}

// sendAll starts orders evenly over spread, at most concurrency at a time,
// and waits for them all. Each order first looks up the exchange rate, then
// charges.
func sendAll(ctx context.Context, s *side, orders []charge, concurrency int, spread time.Duration) time.Duration {
	start := time.Now()
	sem := make(chan struct{}, concurrency)
	var wg sync.WaitGroup
	for i, o := range orders {
		at := start.Add(spread * time.Duration(i) / time.Duration(len(orders)))
		if err := sleep(ctx, time.Until(at)); err != nil {
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			s.t.lookedUp(s.client.rate(ctx))
			r, err := s.client.charge(ctx, o)
			if err != nil {
				s.t.failed.Add(1)
			} else {
				s.t.accept(r)
			}
			s.t.done.Add(1)
		})
	}
	wg.Wait()
	return time.Since(start)
}

// showProgress rewrites one line with both clients' progress until the
// returned function is called.
func showProgress(w io.Writer, start time.Time, orders int, r *result) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				fmt.Fprint(w, "\r"+strings.Repeat(" ", 100)+"\r")
				return
			case <-tick.C:
				_, _, state := r.resilient.t.breakerStates()
				card := "up"
				if r.resilient.server.outage.down(time.Now()) {
					card = "DOWN"
				}
				fmt.Fprintf(w, "\r%5.1fs  card network %-4s  naive %3d/%d done  resilient %3d/%d done  breaker %-9s",
					time.Since(start).Seconds(), card, r.naive.t.done.Load(), orders, r.resilient.t.done.Load(), orders, state)
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// storeFactory returns a function that makes one idempotency store per
// server: in memory, or in Redis under a prefix of its own.
func storeFactory(redisURL string) (newStore func(name string) (idempotency.Store, error), closeAll func(), err error) {
	if redisURL == "" {
		return func(string) (idempotency.Store, error) {
			return idempotency.NewMemoryStore(idempotency.MemoryConfig{}), nil
		}, func() {}, nil
	}
	return redisStores(redisURL)
}

func orderID(n int) string { return fmt.Sprintf("ord-%04d", n) }
