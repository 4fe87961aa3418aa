package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/pgstore"
	"github.com/magicmagnets/resilience/idempotency/redisstore"
)

// order is what a client asks a replica to charge.
type order struct {
	OrderID     string `json:"order_id"`
	AmountCents int64  `json:"amount_cents"`
	// HoldOn names a replica that holds the charge back, once it owns the
	// key, until the ledger has seen a higher fence for it: an owner paused
	// (a long GC pause, a stalled host) past its lease, which does not
	// notice and writes late. Only the takeover phase sets it.
	HoldOn string `json:"hold_on,omitempty"`
	// FailAfterCharge makes the handler answer 500 once the charge has gone
	// through, with the receipt in the body: a service that charged and
	// then failed. That answer is the order's outcome, and a retry must
	// replay it, never charge again. The driver sets it on a share of the
	// keyed orders of every phase.
	FailAfterCharge bool `json:"fail_after_charge,omitempty"`
}

// orderAmount is what every order charges: $50.00.
const orderAmount = 5000

// receipt is a replica's answer to a charge it made.
type receipt struct {
	ChargeID    string `json:"charge_id"`
	OrderID     string `json:"order_id"`
	AmountCents int64  `json:"amount_cents"`
	Fence       int64  `json:"fence"`
	Replica     string `json:"replica"`
}

// cardNetworkDelay is how long a charge takes: 20 to 80ms.
func cardNetworkDelay() time.Duration {
	return 20*time.Millisecond + rand.N(60*time.Millisecond)
}

// replicaConfig is what the driver passes a replica on its command line.
type replicaConfig struct {
	name      string        // "a" or "b"
	store     string        // "redis" or "pg"
	storeAddr string        // host:port of the replica's own proxy to the store
	ledger    string        // the ledger's base URL
	lease     time.Duration // the idempotency lease
	pgConns   int32         // PostgreSQL pool size
}

// runReplica is the payments server one replica process runs: the charge
// handler behind idempotency.Middleware over the chosen store, reached
// through storeAddr. It prints its listening address on stdout, serves
// until SIGTERM or SIGINT, and returns.
func runReplica(c replicaConfig) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	store, closeStore, err := openStore(ctx, c)
	if err != nil {
		return err
	}
	defer closeStore()

	p := &payments{name: c.name, ledger: c.ledger, client: &http.Client{Timeout: 5 * time.Second}, events: map[resilience.Kind]int{}}
	mw := idempotency.Middleware(store, idempotency.MiddlewareConfig{
		CanonicalJSON: true,
		Lease:         c.lease,
		Observer:      resilience.ObserverFunc(p.observe),
	})
	mux := http.NewServeMux()
	mux.Handle("POST /charges", mw(http.HandlerFunc(p.charge)))
	mux.HandleFunc("GET /events", p.serveEvents)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	fmt.Println(ln.Addr().String())
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	p.client.CloseIdleConnections()
	return nil
}

// openStore connects the replica's store through its proxy.
func openStore(ctx context.Context, c replicaConfig) (idempotency.Store, func(), error) {
	switch c.store {
	case "redis":
		opt, err := redis.ParseURL(os.Getenv("REDIS_URL"))
		if err != nil {
			return nil, nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		opt.Addr = c.storeAddr
		client := redis.NewClient(opt)
		return redisstore.New(client, redisstore.Config{}), func() { _ = client.Close() }, nil
	case "pg":
		cfg, err := pgxpool.ParseConfig(os.Getenv("DATABASE_URL"))
		if err != nil {
			return nil, nil, fmt.Errorf("DATABASE_URL: %w", err)
		}
		host, port, err := net.SplitHostPort(c.storeAddr)
		if err != nil {
			return nil, nil, err
		}
		var p uint16
		if _, err := fmt.Sscan(port, &p); err != nil {
			return nil, nil, fmt.Errorf("store address %q: %w", c.storeAddr, err)
		}
		cfg.ConnConfig.Host, cfg.ConnConfig.Port = host, p
		cfg.MaxConns = c.pgConns
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return nil, nil, err
		}
		return pgstore.New(pool, pgstore.Config{}), pool.Close, nil
	}
	return nil, nil, fmt.Errorf("unknown store %q", c.store)
}

// payments is the charge handler of one replica.
type payments struct {
	name   string
	ledger string
	client *http.Client

	mu     sync.Mutex
	events map[resilience.Kind]int
}

func (p *payments) observe(e resilience.Event) {
	p.mu.Lock()
	p.events[e.Kind]++
	p.mu.Unlock()
}

// serveEvents answers the middleware's event counts, by kind.
func (p *payments) serveEvents(w http.ResponseWriter, _ *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(p.events)
}

// charge applies the order to the ledger under the request's fence and
// answers a receipt. The ledger call does not end with the request: a
// client that hangs up mid-charge must not leave a charge half known. A
// stale fence (the lease was lost and the key taken over) is answered 409,
// which the middleware does not record.
func (p *payments) charge(w http.ResponseWriter, r *http.Request) {
	var o order
	if err := json.NewDecoder(r.Body).Decode(&o); err != nil || o.OrderID == "" || o.AmountCents <= 0 {
		http.Error(w, "malformed order", http.StatusBadRequest)
		return
	}
	wr := write{Key: "naive/" + o.OrderID, Order: o.OrderID}
	if f, ok := idempotency.FenceFrom(r.Context()); ok {
		wr.Key, wr.Fence = f.Key, f.Fence
	}
	ctx := context.WithoutCancel(r.Context())
	if o.HoldOn == p.name {
		p.hold(ctx, wr)
		// By now another replica has taken the key over: the library must
		// have told this owner so, by cancelling its context with
		// ErrLockLost. The write below still goes out (the fence must refuse
		// it); the answer says whether the owner was told.
		if errors.Is(context.Cause(r.Context()), idempotency.ErrLockLost) {
			w.Header().Set(leaseLostHeader, "true")
		}
	}
	// The card network takes its time, and the charge is not abandoned
	// half-way when the client hangs up: a store fault or a client's
	// timeout can fall between the claim and the record.
	_ = pause(ctx, cardNetworkDelay())
	var a applied
	status, err := p.post(ctx, "/apply", wr, &a)
	switch {
	case err != nil:
		http.Error(w, "ledger: "+err.Error(), http.StatusBadGateway)
		return
	case status == http.StatusConflict:
		http.Error(w, "stale fence: the key was taken over", http.StatusConflict)
		return
	case status != http.StatusOK:
		http.Error(w, fmt.Sprintf("ledger: status %d", status), http.StatusBadGateway)
		return
	}
	status = http.StatusCreated
	if o.FailAfterCharge {
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(receipt{ChargeID: a.ChargeID, OrderID: o.OrderID, AmountCents: o.AmountCents, Fence: wr.Fence, Replica: p.name})
}

// hold tells the ledger that this owner began a held charge, then waits
// until the ledger has seen a higher fence for the key (another replica
// took it over), for at most a minute.
func (p *payments) hold(ctx context.Context, wr write) {
	if _, err := p.post(ctx, "/begin", wr, nil); err != nil {
		return
	}
	wr.WaitMillis = time.Minute.Milliseconds()
	wait := &http.Client{Timeout: time.Minute + 5*time.Second}
	_, _ = post(ctx, wait, p.ledger+"/wait", wr, nil)
}

func (p *payments) post(ctx context.Context, path string, body, into any) (int, error) {
	return post(ctx, p.client, p.ledger+path, body, into)
}

// post sends body as JSON and decodes a 200 answer into into, if not nil.
func post(ctx context.Context, c *http.Client, url string, body, into any) (int, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK && into != nil {
		if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
			return resp.StatusCode, fmt.Errorf("decoding %s: %w", url, err)
		}
		return resp.StatusCode, nil
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// leaseLostHeader marks the answer of a held charge whose owner's context
// was cancelled with ErrLockLost.
const leaseLostHeader = "Chaos-Lease-Lost"

var errNoAddr = errors.New("replica printed no address")
