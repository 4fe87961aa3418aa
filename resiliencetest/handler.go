package resiliencetest

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
)

// HandlerConfig configures a [FaultyHandler]: which requests get which
// [HTTPFault]. The zero HandlerConfig injects nothing.
type HandlerConfig struct {
	// Script gives the faults of the first requests, one per request in
	// the order they arrive (exempt requests not included). After the
	// script, Odds apply.
	Script []HTTPFault

	// Odds gives each fault's probability for the requests after the
	// script; a request gets at most one fault, and none with the
	// remaining probability. Every rate must be in [0, 1] and their sum at
	// most 1.
	Odds []Odds

	// Seed seeds the pseudo-random source Odds draw from: the same seed
	// gives the same faults for the same sequence of requests.
	Seed uint64

	// Exempt, if set, picks requests that are served normally and never
	// get a fault, such as health checks or the endpoint a test uses to
	// verify the server's state. It is called for every request.
	Exempt func(*http.Request) bool

	// Digest makes every non-exempt response carry an RFC 9530
	// Content-Digest over the body the handler wrote, so a client can
	// catch truncated bodies and wrong digests with
	// resiliencehttp.VerifyDigest. It requires holding every response in
	// memory before sending it.
	Digest bool
}

// Odds is a fault and the probability that a request gets it.
type Odds struct {
	Rate  float64
	Fault HTTPFault
}

// Stats counts what a [FaultyHandler] did. Requests = Exempt + Passed +
// Injected().
type Stats struct {
	Requests    int // requests seen
	Exempt      int // requests picked by HandlerConfig.Exempt
	Passed      int // other requests served normally
	Status      int // answered with an injected status code
	Stalled     int // delayed before the handler ran
	Dropped     int // connection closed without running the handler
	Lost        int // handler ran, response never sent
	Reset       int // connection closed in the middle of the body
	Truncated   int // body cut short
	Corrupted   int // body rewritten
	WrongDigest int // sent with a wrong Content-Digest
}

// Injected returns the number of requests that got a fault: the sum of the
// counts from Status to WrongDigest.
func (s Stats) Injected() int {
	return s.Status + s.Stalled + s.Dropped + s.Lost + s.Reset + s.Truncated + s.Corrupted + s.WrongDigest
}

// Handler is an http.Handler that injects faults in front of another; see
// [FaultyHandler]. It is safe for concurrent use.
type Handler struct {
	h      http.Handler
	script []HTTPFault
	odds   []Odds
	exempt func(*http.Request) bool
	digest bool

	mu     sync.Mutex // guards src and served
	src    *rand.Rand
	served int // non-exempt requests so far, the position in the script

	requests atomic.Int64
	exempted atomic.Int64
	counts   [numHTTPKinds]atomic.Int64
}

// FaultyHandler returns a handler that serves requests with h, but injects
// the faults c describes: scripted faults first, then faults drawn at the
// configured rates. Counters of every fault injected are available at any
// time from [Handler.Stats].
//
// Faults that close the connection (Drop, LoseResponse, ResetBody) hijack
// it, so they need HTTP/1.x; under HTTP/2 they abort the stream instead.
// Note that net/http's client retries an idempotent request (GET, HEAD,
// OPTIONS, TRACE, or one carrying an Idempotency-Key) once on its own when a
// reused connection closes before any response: that retry reaches the
// handler as a new request with a fault of its own. Disable keep-alives in
// the client's transport to see every dropped connection as an error.
//
// FaultyHandler starts no goroutine. It panics if h is nil or the odds are
// out of range.
func FaultyHandler(h http.Handler, c HandlerConfig) *Handler {
	if h == nil {
		panic("resiliencetest: FaultyHandler with a nil handler")
	}
	sum := 0.0
	for i, o := range c.Odds {
		if !(o.Rate >= 0 && o.Rate <= 1) {
			panic(fmt.Sprintf("resiliencetest: Odds[%d].Rate %v outside [0, 1]", i, o.Rate))
		}
		sum += o.Rate
	}
	if sum > 1+1e-9 {
		panic(fmt.Sprintf("resiliencetest: Odds rates add up to %v, more than 1", sum))
	}
	return &Handler{
		h:      h,
		script: append([]HTTPFault(nil), c.Script...),
		odds:   append([]Odds(nil), c.Odds...),
		exempt: c.Exempt,
		digest: c.Digest,
		src:    rand.New(rand.NewPCG(c.Seed, c.Seed)),
	}
}

// Stats returns the counters so far. Each counter is read atomically; a
// request in flight may show in Requests before its fault's counter.
func (fh *Handler) Stats() Stats {
	c := func(k httpKind) int { return int(fh.counts[k].Load()) }
	return Stats{
		Requests:    int(fh.requests.Load()),
		Exempt:      int(fh.exempted.Load()),
		Passed:      c(httpPass),
		Status:      c(httpStatus),
		Stalled:     c(httpStall),
		Dropped:     c(httpDrop),
		Lost:        c(httpLose),
		Reset:       c(httpReset),
		Truncated:   c(httpTruncate),
		Corrupted:   c(httpCorrupt),
		WrongDigest: c(httpWrongDigest),
	}
}

// ServeHTTP serves r, injecting the fault chosen for it.
func (fh *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fh.requests.Add(1)
	if fh.exempt != nil && fh.exempt(r) {
		fh.exempted.Add(1)
		fh.h.ServeHTTP(w, r)
		return
	}
	f := fh.next()
	fh.counts[f.kind].Add(1)

	switch f.kind {
	case httpStatus:
		f.writeStatus(w)
		return
	case httpDrop:
		closeConn(w)
		return
	case httpStall:
		if wait(r.Context(), f.delay) != nil {
			return
		}
	}
	if !fh.digest && !f.needsBody() {
		fh.h.ServeHTTP(w, r)
		return
	}
	resp := newBufferedResponse()
	fh.h.ServeHTTP(resp, r)
	fh.send(w, f, resp)
}

// next chooses the fault for the next non-exempt request.
func (fh *Handler) next() HTTPFault {
	fh.mu.Lock()
	defer fh.mu.Unlock()
	n := fh.served
	fh.served++
	if n < len(fh.script) {
		return fh.script[n]
	}
	if len(fh.odds) == 0 {
		return HTTPFault{}
	}
	u := fh.src.Float64()
	for _, o := range fh.odds {
		if u < o.Rate {
			return o.Fault
		}
		u -= o.Rate
	}
	return HTTPFault{}
}

// send writes the buffered response resp to w, as fault f alters it.
func (fh *Handler) send(w http.ResponseWriter, f HTTPFault, resp *bufferedResponse) {
	body := resp.body.Bytes()
	digest := ""
	if fh.digest {
		digest = contentDigest(body)
	}
	switch f.kind {
	case httpLose:
		closeConn(w)
		return
	case httpReset:
		resetConn(w, resp, digest, f.n)
		return
	case httpTruncate:
		if len(body) > 0 {
			body = body[:min(f.n, len(body)-1)]
		}
	case httpCorrupt:
		body = f.corrupt(append([]byte(nil), body...))
		if fh.digest {
			digest = contentDigest(body)
		}
	case httpWrongDigest:
		digest = wrongDigest(body)
	}
	resp.writeTo(w, body, digest)
}
