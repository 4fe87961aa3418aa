package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/resiliencetest"
)

// charge is what a client asks the payments server to do.
type charge struct {
	OrderID     string `json:"order_id"`
	AmountCents int64  `json:"amount_cents"`
	key         string // the idempotency key the resilient client sends with it
}

// orderAmount is what every order charges: $50.00.
const orderAmount = 5000

// receipt is what the server answers once it has charged.
type receipt struct {
	ChargeID    string `json:"charge_id"`
	OrderID     string `json:"order_id"`
	AmountCents int64  `json:"amount_cents"`
}

// ledger records every charge the server performed: the ground truth the
// report compares the clients against.
type ledger struct {
	mu      sync.Mutex
	charges map[string]int      // order id → times charged
	ids     map[string][]string // order id → its charge ids
	total   int
}

func newLedger() *ledger {
	return &ledger{charges: make(map[string]int), ids: make(map[string][]string)}
}

// charge records one charge of order and returns its charge id.
func (l *ledger) charge(order string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.charges[order]++
	l.total++
	id := fmt.Sprintf("ch_%06d", l.total)
	l.ids[order] = append(l.ids[order], id)
	return id
}

// genuine reports whether r is a receipt the server really issued: one of
// the order's charges, for the amount every order carries.
func (l *ledger) genuine(r receipt) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.AmountCents != orderAmount {
		return false
	}
	for _, id := range l.ids[r.OrderID] {
		if id == r.ChargeID {
			return true
		}
	}
	return false
}

// tally returns the number of charges, the orders charged more than once and
// the extra charges they carry.
func (l *ledger) tally() (charges, doubled, extra int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, n := range l.charges {
		if n > 1 {
			doubled++
			extra += n - 1
		}
	}
	return l.total, doubled, extra
}

func (l *ledger) times(order string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.charges[order]
}

// outage is a window during which the card network behind the server is
// down: every charge hangs for a moment (shed.go) and fails with 503 until
// it comes back.
type outage struct {
	from, to time.Time
	refused  atomic.Int64
}

func (o *outage) down(now time.Time) bool { return !now.Before(o.from) && now.Before(o.to) }

// server is one payments server on loopback: the charge handler behind the
// idempotency middleware, behind injected network faults.
type server struct {
	*httptest.Server
	ledger  *ledger
	faults  *resiliencetest.Handler
	outage  *outage
	card    *cardGate    // the bulkhead in front of the card network (shed.go)
	replays atomic.Int64 // retried charges answered from the idempotency record
}

// serverConfig says what faults the server injects.
type serverConfig struct {
	store       idempotency.Store
	seed        uint64
	drop        float64       // connection closed before the handler runs
	unavailable float64       // 503 with Retry-After before the handler runs
	slow        float64       // stalled past the client's attempt timeout
	lost        float64       // charged, then the response is lost
	corrupt     float64       // byzantine: a wrong amount or order id, a truncated body, a wrong digest
	stall       time.Duration // how long a slow request stalls
	retryAfter  time.Duration // Retry-After of injected 503s
	outageAt    time.Duration // the card network goes down this long after start
	outageFor   time.Duration // and stays down this long
}

func startServer(c serverConfig, start time.Time) *server {
	s := &server{
		ledger: newLedger(),
		outage: &outage{from: start.Add(c.outageAt), to: start.Add(c.outageAt + c.outageFor)},
		card:   newCardGate(),
	}
	mux := http.NewServeMux()
	mux.Handle("POST /charges", s.card.guard(s.charge))
	mux.HandleFunc("GET /rates/EUR-USD", s.rate)
	protected := idempotency.Middleware(c.store, idempotency.MiddlewareConfig{
		CanonicalJSON: true,
		Observer: resilience.ObserverFunc(func(e resilience.Event) {
			if e.Kind == resilience.KindReplay {
				s.replays.Add(1)
			}
		}),
	})(mux)
	s.faults = resiliencetest.FaultyHandler(protected, resiliencetest.HandlerConfig{
		Seed:   c.seed,
		Digest: true, // every answer carries a Content-Digest a client can check
		Odds: []resiliencetest.Odds{
			{Rate: c.drop, Fault: resiliencetest.Drop()},
			{Rate: c.unavailable, Fault: resiliencetest.Status(http.StatusServiceUnavailable, c.retryAfter)},
			{Rate: c.slow, Fault: resiliencetest.Stall(c.stall)},
			{Rate: c.lost, Fault: resiliencetest.LoseResponse()},
			// Byzantine answers: well-formed responses with wrong content.
			{Rate: c.corrupt / 4, Fault: resiliencetest.Corrupt(resiliencetest.SetJSONField("amount_cents", -orderAmount))},
			{Rate: c.corrupt / 4, Fault: resiliencetest.Corrupt(resiliencetest.SetJSONField("order_id", "ord-other"))},
			{Rate: c.corrupt / 4, Fault: resiliencetest.Truncate(20)},
			{Rate: c.corrupt / 4, Fault: resiliencetest.WrongDigest()},
		},
	})
	s.Server = httptest.NewServer(s.faults)
	return s
}

// charge performs the charge — unless the card network is down — and
// answers with a receipt.
func (s *server) charge(w http.ResponseWriter, r *http.Request) {
	var c charge
	if err := json.NewDecoder(r.Body).Decode(&c); err != nil || c.OrderID == "" || c.AmountCents <= 0 {
		http.Error(w, "malformed charge", http.StatusBadRequest)
		return
	}
	if s.outage.down(time.Now()) {
		s.outage.refused.Add(1)
		hang(r.Context())
		http.Error(w, "card network unavailable", http.StatusServiceUnavailable)
		return
	}
	id := s.ledger.charge(c.OrderID)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(receipt{ChargeID: id, OrderID: c.OrderID, AmountCents: c.AmountCents})
}

// quote is the exchange rate the server publishes; its source is behind the
// same network that goes down.
type quote struct {
	Pair string  `json:"pair"`
	Rate float64 `json:"rate"`
}

// rate answers the EUR/USD exchange rate, unless its source is down.
func (s *server) rate(w http.ResponseWriter, r *http.Request) {
	if s.outage.down(time.Now()) {
		http.Error(w, "rate source unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(quote{Pair: "EUR/USD", Rate: 1.0842})
}
