package main

import (
	"errors"
	"math/rand/v2"
	"time"

	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/internal/breakermodel"
	"github.com/magicmagnets/resilience/internal/limitalg"
	"github.com/magicmagnets/resilience/internal/sim"
	"github.com/magicmagnets/resilience/retry"
)

// second are the counts of one second of simulated time.
type second struct {
	Arrived   int     // requests that arrived
	Offered   int     // attempts that reached the server
	Refused   int     // of those, attempts the server refused at once (503)
	Local     int     // attempts a client-side policy turned away
	Served    int     // requests the server finished
	Wasted    int     // of those, requests whose client no longer waited
	Succeeded int     // requests that succeeded (goodput)
	Failed    int     // requests that failed for good
	Limit     float64 // the concurrency limit at the end of the second: the server's, or the sum of the clients'
}

// runResult is what one simulated run records.
type runResult struct {
	Seconds []second
	// Latency holds the end-to-end latency (arrival to success, retries
	// included) of the requests that succeeded while the service was
	// overloaded, from the start of the hold to the end of the spike.
	Latency *sim.Histogram
}

type kind uint8

const (
	arrival  kind = iota // a new request
	retryAt              // a request's next attempt starts
	served               // the server finishes a job
	timedOut             // an attempt's timeout fires at the client
	restored             // the server gets back the workers it lost for the hold
)

type event struct {
	kind kind
	req  *request
	try  int  // the attempt the event belongs to
	job  *job // for served
}

// request is one call of retry.Policy.Do at a client.
type request struct {
	client  int
	arrived time.Duration
	try     int  // current attempt, from 1
	waiting bool // the client waits for the current attempt's answer
	sent    time.Duration

	// What the current attempt holds of its client's policies.
	limited   bool // a slot of the client's limiter
	inflight  int  // the client's attempts in flight when it started, itself included
	throttled bool // the throttle admitted it: it is counted when it ends
	broken    bool // a breaker permit
	permit    breakermodel.Permit
}

// job is an attempt the server admitted.
type job struct {
	req      *request
	try      int
	admitted time.Duration
	inflight int // requests the server held when it was admitted, itself included
}

// clientState is one client instance's policies.
type clientState struct {
	limiter  *limitalg.SampleWindow
	inflight int
	throttle *limitalg.Throttle
	breaker  *breakermodel.Model
}

// How an attempt ended, as the client sees it.
type result uint8

const (
	ok              result = iota
	timedOutAttempt        // the attempt's timeout fired
	refused                // the server answered 503 at once
	rejected               // a client-side policy turned it away
)

// The errors the retry policy is given, one per way an attempt fails.
var (
	errTimeout  = errors.New("overload: attempt timed out")
	errRefused  = errors.New("overload: 503 from the server")
	errRejected = errors.New("overload: rejected by a client-side policy")
)

// breakerOpen is the error of an attempt a breaker rejected, with its
// RetryAfter hint, which retry.Policy honours.
type breakerOpen time.Duration

func (b breakerOpen) Error() string             { return "overload: breaker open" }
func (b breakerOpen) RetryAfter() time.Duration { return time.Duration(b) }

// simulate runs one variant through the scenario, drawing every random
// number from r, and returns what it recorded.
func simulate(sc scenario, v variant, r *rand.Rand) runResult {
	// The retry decisions are retry.Policy's own decision step (Next):
	// attempts, the default backoff, and a breaker's hint with its jitter.
	bo := backoff.Exponential(100*time.Millisecond, 2, 10*time.Second).WithJitter(backoff.Full).WithRand(r)
	policy := retry.New(retry.Config{MaxAttempts: sc.Attempts, Backoff: bo, Rand: r})

	clients := make([]clientState, sc.Clients)
	for i := range clients {
		c := &clients[i]
		if v.client != nil {
			c.limiter = v.client(r)
		}
		if v.throttle {
			c.throttle = limitalg.NewThrottle(throttleConfig())
		}
		if v.breaker != nil {
			c.breaker = breakermodel.New(*v.breaker)
		}
	}
	var serverLimit *limitalg.SampleWindow
	if v.server != nil {
		serverLimit = v.server(r)
	}
	var bulk *bulkheadModel
	if v.bulkhead > 0 {
		bulk = &bulkheadModel{max: v.bulkhead}
	}

	res := runResult{Seconds: make([]second, sc.seconds()+1), Latency: sim.NewHistogram()}
	at := func(t time.Duration) *second {
		return &res.Seconds[min(int(t/time.Second), len(res.Seconds)-1)]
	}
	var q sim.Queue[event]
	end := sc.end()
	capacity := sc.capacity()
	gap := func() time.Duration {
		rate := sc.load(q.Now()) * capacity
		return time.Duration(r.ExpFloat64() / rate * float64(time.Second))
	}

	var (
		busy    int
		waiting []*job // the server's FIFO queue
	)
	held := func() int { return busy + len(waiting) }
	start := func(j *job) {
		busy++
		w := sc.workers(q.Now())
		slow := 1 + sc.Slowdown*float64(min(len(waiting), w))/float64(w)
		draw := r.ExpFloat64()
		if sc.Shape > 1 {
			for range sc.Shape - 1 {
				draw += r.ExpFloat64()
			}
			draw /= float64(sc.Shape)
		}
		q.After(time.Duration(draw*slow*float64(sc.Service)), event{kind: served, job: j})
	}
	recordLimit := func() {
		switch {
		case serverLimit != nil:
			at(q.Now()).Limit = float64(serverLimit.Limit())
		case v.client != nil:
			sum := 0
			for i := range clients {
				sum += clients[i].limiter.Limit()
			}
			at(q.Now()).Limit = float64(sum)
		}
	}

	// startWaiting starts queued jobs while a worker is free.
	startWaiting := func() {
		for len(waiting) > 0 && busy < sc.workers(q.Now()) {
			next := waiting[0]
			waiting[0] = nil
			waiting = waiting[1:]
			start(next)
		}
	}

	var endAttempt func(req *request, how result, hint time.Duration)

	// send starts the current attempt of req: through the client's policies,
	// outermost first (breaker, throttle, limiter), then to the server.
	send := func(req *request) {
		c := &clients[req.client]
		now := q.Now()
		if c.breaker != nil {
			p, wait, admitted := c.breaker.Allow(now)
			if !admitted {
				endAttempt(req, rejected, wait)
				return
			}
			req.broken, req.permit = true, p
		}
		if c.throttle != nil {
			if c.throttle.Reject(now, r.Float64()) {
				endAttempt(req, rejected, 0)
				return
			}
			req.throttled = true
		}
		if c.limiter != nil {
			if c.inflight >= c.limiter.Limit() {
				endAttempt(req, rejected, 0)
				return
			}
			c.inflight++
			req.limited, req.inflight = true, c.inflight
		}
		req.waiting, req.sent = true, now
		at(now).Offered++
		q.AfterFixed(sc.Timeout, event{kind: timedOut, req: req, try: req.try})

		h := held()
		if (bulk != nil && !bulk.allow(h)) || (serverLimit != nil && h >= serverLimit.Limit()) {
			at(now).Refused++
			endAttempt(req, refused, 0)
			return
		}
		j := &job{req: req, try: req.try, admitted: now, inflight: h + 1}
		if busy < sc.workers(now) {
			start(j)
		} else {
			waiting = append(waiting, j)
		}
	}

	// endAttempt ends the current attempt of req as how, telling the
	// client's policies, and schedules the next attempt if the retry policy
	// makes one.
	endAttempt = func(req *request, how result, hint time.Duration) {
		c := &clients[req.client]
		now := q.Now()
		req.waiting = false
		if req.limited {
			req.limited = false
			c.inflight--
			c.limiter.Sample(now, now-req.sent, req.inflight, how != ok)
			recordLimit()
		}
		if req.throttled {
			req.throttled = false
			c.throttle.Record(now, how == ok)
		}
		if req.broken {
			req.broken = false
			o := breakermodel.Failed
			switch how {
			case ok:
				o = breakermodel.Succeeded
			case rejected:
				o = breakermodel.Ignored // the breaker's default Ignore: a rejection from inside it
			}
			c.breaker.Done(req.permit, o, now)
		}
		if how == rejected {
			at(now).Local++
		}
		if how == ok {
			at(now).Succeeded++
			if now >= sc.holdAt() && now < sc.recoverAt() {
				res.Latency.Add(now - req.arrived)
			}
			return
		}
		var err error
		switch how {
		case timedOutAttempt:
			err = errTimeout
		case refused:
			err = errRefused
		default:
			err = errRejected
			if hint > 0 {
				err = breakerOpen(hint)
			}
		}
		d, again := policy.Next(req.try, err)
		if !again {
			at(now).Failed++
			return
		}
		req.try++
		q.After(d, event{kind: retryAt, req: req, try: req.try})
	}

	q.After(gap(), event{kind: arrival})
	if sc.HoldWorkers > 0 {
		q.After(sc.spikeAt(), event{kind: restored})
	}
	for {
		ev, more := q.Next()
		if !more || q.Now() >= end {
			break
		}
		switch ev.kind {
		case arrival:
			q.After(gap(), ev)
			req := &request{client: r.IntN(sc.Clients), arrived: q.Now(), try: 1}
			at(q.Now()).Arrived++
			send(req)
		case retryAt:
			send(ev.req)
		case timedOut:
			if ev.req.waiting && ev.req.try == ev.try {
				endAttempt(ev.req, timedOutAttempt, 0)
			}
		case restored:
			startWaiting()
		case served:
			busy--
			j := ev.job
			at(q.Now()).Served++
			if serverLimit != nil {
				serverLimit.Sample(q.Now(), q.Now()-j.admitted, j.inflight, false)
				recordLimit()
			}
			startWaiting()
			if j.req.waiting && j.req.try == j.try {
				endAttempt(j.req, ok, 0)
			} else {
				at(q.Now()).Wasted++
			}
		}
	}
	// Carry the last limit seen into the seconds without an update.
	if v.server != nil || v.client != nil {
		for i := 1; i < len(res.Seconds); i++ {
			if res.Seconds[i].Limit == 0 {
				res.Seconds[i].Limit = res.Seconds[i-1].Limit
			}
		}
	}
	return res
}
