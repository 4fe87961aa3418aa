package main

import (
	"errors"
	"math/rand/v2"
	"time"

	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/internal/breakermodel"
	"github.com/magicmagnets/resilience/internal/sim"
	"github.com/magicmagnets/resilience/retry"
)

// Part 2 is the overload the 2015 model cannot express. A fleet of clients
// sends requests at a steady Poisson rate (open loop: a request arrives
// whether or not earlier ones have finished). The server is an M/M/c queue:
// Workers workers, exponential service times, one FIFO queue of at most
// QueueLimit requests (a request beyond it is refused at once), so waiting
// grows with load. It cannot tell that a client stopped waiting: it serves
// an abandoned request all the same. Each client attempt times out after
// Timeout. For OutageFor from OutageAt the server is down: requests in
// progress are lost and new ones get no answer, so attempts time out.
// Network time is left out.

// scenario is the setting of part 2.
type scenario struct {
	Clients    int           // client instances; each has its own budget and breaker
	Rate       float64       // requests a second, the whole fleet (the base rate)
	Workers    int           // server workers
	Service    time.Duration // mean service time
	QueueLimit int           // requests waiting beyond the workers
	Timeout    time.Duration // per attempt
	OutageAt   time.Duration
	OutageFor  time.Duration
	Arrivals   time.Duration // requests arrive in [0, Arrivals)
}

// defaultScenario runs at 62.5% utilisation: 100 requests a second on a
// server that serves 160.
func defaultScenario() scenario {
	return scenario{
		Clients: 10, Rate: 100, Workers: 8, Service: 50 * time.Millisecond, QueueLimit: 1000,
		Timeout: time.Second, OutageAt: 60 * time.Second, OutageFor: 30 * time.Second, Arrivals: 150 * time.Second,
	}
}

// variant is one client configuration. Every variant retries with
// retry.Policy's defaults (MaxAttempts, backoff, MaxDelay); attempts 1 means
// no retries. hint is the rule of the breaker's hint while half-open; its
// zero value is breaker.Breaker's own.
type variant struct {
	name     string
	attempts int
	budget   *retry.BudgetConfig
	breaker  *breaker.Config
	hint     breakermodel.HalfOpenHint
}

func variants() []variant {
	return []variant{
		{name: "no retries", attempts: 1},
		{name: "3 attempts", attempts: 3},
		{name: "3 attempts, 10% budget", attempts: 3, budget: &retry.BudgetConfig{Ratio: 0.1, MinPerSecond: -1}},
		{name: "3 attempts, breaker", attempts: 3, breaker: &breaker.Config{}},
	}
}

// hintVariants are part 2's breaker variant under each rule for the hint of
// a call turned away while the breaker is half-open and its probe in
// flight: none, the rule breaker.Breaker had before, and its own.
func hintVariants() []variant {
	return []variant{
		{name: "0: the retry's own backoff", attempts: 3, breaker: &breaker.Config{}, hint: breakermodel.HintNone},
		{name: "until the probe's slot frees", attempts: 3, breaker: &breaker.Config{}, hint: breakermodel.HintSlotFrees},
		{name: "the probe's age (OpenFor/50 to the slot)", attempts: 3, breaker: &breaker.Config{}, hint: breakermodel.HintProbeAge},
	}
}

type kind2 uint8

const (
	arrival      kind2 = iota // a new request at a client
	attempt                   // a request's next attempt starts
	served                    // the server finishes a request
	timedOut                  // an attempt's timeout fires
	outageStarts              // the server goes down and loses what it holds
)

type event2 struct {
	kind   kind2
	client int
	req    *request
	try    int    // the attempt an event belongs to
	epoch  uint64 // for served: the server's life the work belongs to
}

// request is one call of retry.Policy.Do.
type request struct {
	client  int
	second  int // arrival second
	try     int // current attempt, from 1
	waiting bool
	permit  breakermodel.Permit
}

// client is one instance of the fleet, with its own budget and breaker.
type client struct {
	budget  *budgetModel
	breaker *breakermodel.Model
}

// second2 are the counts of one second of simulated time.
type second2 struct {
	Offered   int // attempts that reached the server
	Arrived   int // requests that arrived in this second
	Succeeded int // of those, requests that ended in success
}

// overload simulates one variant and returns per-second counts.
func overload(sc scenario, v variant, r *rand.Rand) []second2 {
	// The retry decisions are retry.Policy's own decision step (Next):
	// MaxAttempts, the default backoff and MaxDelay, and a rejection's hint
	// with its jitter, all drawing from r.
	bo := backoff.Exponential(100*time.Millisecond, 2, 10*time.Second).WithJitter(backoff.Full).WithRand(r)
	policy := retry.New(retry.Config{MaxAttempts: v.attempts, Backoff: bo, Rand: r})
	clients := make([]client, sc.Clients)
	for i := range clients {
		if v.budget != nil {
			clients[i].budget = newBudgetModel(*v.budget)
		}
		if v.breaker != nil {
			clients[i].breaker = breakermodel.New(*v.breaker)
			clients[i].breaker.Hint = v.hint
		}
	}
	stats := make([]second2, int((sc.Arrivals+time.Minute)/time.Second))
	at := func(t time.Duration) *second2 {
		i := int(t / time.Second)
		for i >= len(stats) {
			stats = append(stats, second2{})
		}
		return &stats[i]
	}

	var q sim.Queue[event2]
	perClient := sc.Rate / float64(sc.Clients)
	gap := func(rate float64) time.Duration {
		return time.Duration(r.ExpFloat64() / rate * float64(time.Second))
	}
	// Scheduled first, so that it comes before any other event at the same
	// instant.
	q.After(sc.OutageAt, event2{kind: outageStarts})
	for i := range clients {
		q.After(gap(perClient), event2{kind: arrival, client: i})
	}

	var (
		epoch   uint64 // bumped when the server goes down
		busy    int
		waiting []*event2 // FIFO of requests queued at the server
	)
	down := func() bool { return q.Now() >= sc.OutageAt && q.Now() < sc.OutageAt+sc.OutageFor }
	startWork := func(ev event2) {
		busy++
		ev.kind, ev.epoch = served, epoch
		q.After(time.Duration(r.ExpFloat64()*float64(sc.Service)), ev)
	}

	// finish ends the current attempt of req with the given outcome, and
	// schedules the next attempt when the policy would make one.
	var send func(req *request)
	finish := func(req *request, ok bool, retryAfter time.Duration) {
		req.waiting = false
		c := &clients[req.client]
		if ok {
			at(time.Duration(req.second)*time.Second).Succeeded++
			return
		}
		var cause error = errAttempt
		if retryAfter > 0 {
			cause = rejection(retryAfter)
		}
		d, again := policy.Next(req.try, cause)
		if !again {
			return
		}
		if c.budget != nil && !c.budget.allowRetry(q.Now()) {
			return
		}
		req.try++
		q.After(d, event2{kind: attempt, req: req, try: req.try})
	}
	send = func(req *request) {
		c := &clients[req.client]
		if c.breaker != nil {
			p, wait, ok := c.breaker.Allow(q.Now())
			if !ok {
				finish(req, false, wait)
				return
			}
			req.permit = p
		}
		req.waiting = true
		at(q.Now()).Offered++
		q.After(sc.Timeout, event2{kind: timedOut, req: req, try: req.try})
		switch {
		case down():
			// Lost: the attempt will time out.
		case busy < sc.Workers:
			startWork(event2{req: req, try: req.try})
		case len(waiting) < sc.QueueLimit:
			waiting = append(waiting, &event2{req: req, try: req.try})
		default:
			reply(c, req, false, q.Now())
			finish(req, false, 0)
		}
	}

	for {
		ev, ok := q.Next()
		if !ok {
			break
		}
		switch ev.kind {
		case arrival:
			if q.Now() >= sc.Arrivals {
				continue
			}
			q.After(gap(perClient), ev)
			req := &request{client: ev.client, second: int(q.Now() / time.Second), try: 1}
			at(q.Now()).Arrived++
			if b := clients[ev.client].budget; b != nil {
				b.request(q.Now())
			}
			send(req)
		case attempt:
			send(ev.req)
		case timedOut:
			if ev.req.waiting && ev.req.try == ev.try {
				reply(&clients[ev.req.client], ev.req, false, q.Now())
				finish(ev.req, false, 0)
			}
		case served:
			if ev.epoch != epoch {
				continue // work lost in the outage
			}
			busy--
			if len(waiting) > 0 {
				next := waiting[0]
				waiting[0] = nil
				waiting = waiting[1:]
				startWork(*next)
			}
			if ev.req.waiting && ev.req.try == ev.try {
				reply(&clients[ev.req.client], ev.req, true, q.Now())
				finish(ev.req, true, 0)
			}
		case outageStarts:
			// Everything the server holds is lost; the attempts time out.
			// The outage ends by itself: down() reads the clock.
			epoch++
			busy = 0
			clear(waiting)
			waiting = waiting[:0]
		}
	}
	return stats
}

// errAttempt is the error of an attempt that timed out or was refused by a
// full queue.
var errAttempt = errors.New("retrystorm: attempt failed")

// rejection is the error of an attempt a breaker rejected, with its
// RetryAfter hint.
type rejection time.Duration

func (r rejection) Error() string             { return "retrystorm: breaker open" }
func (r rejection) RetryAfter() time.Duration { return time.Duration(r) }

// reply tells the client's breaker, if it has one, how the attempt ended.
func reply(c *client, req *request, ok bool, now time.Duration) {
	if c.breaker != nil {
		o := breakermodel.Succeeded
		if !ok {
			o = breakermodel.Failed
		}
		c.breaker.Done(req.permit, o, now)
	}
}
