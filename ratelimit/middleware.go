package ratelimit

import (
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/magicmagnets/resilience/internal/httpreject"
)

// Middleware limits the requests of a server by the limits of k, one per
// key that key computes from the request (a client address with
// [ClientIP], a tenant from a verified credential). It panics if k or key
// is nil.
//
// A request its key's limit admits goes on to the handler; one it refuses
// (no token within MaxWait) is answered 429 Too Many Requests with
// Retry-After, the seconds until a token rounded up, and an
// application/problem+json body. Both carry the RateLimit fields of the
// IETF draft "RateLimit header fields for HTTP", as of revision -11
// (draft-ietf-httpapi-ratelimit-headers-11; the two structured fields of
// RFC 9651 that replaced RateLimit-Limit, -Remaining and -Reset at -08):
//
//	RateLimit-Policy: "default";q=10;w=1
//	RateLimit: "default";r=3;t=1
//
// where the policy's name is Config.Name ("default" when it is empty or
// not printable ASCII), q is the Burst, w the seconds an empty bucket
// takes to fill (Burst·Per/Rate, rounded up), r the whole tokens left after
// this request and t the seconds until the bucket is full again, rounded
// up.
//
// Outcomes other than these:
//   - key returns "": the request is not limited and carries no RateLimit
//     fields (for health checks, or callers a key function trusts);
//   - key returns a key longer than [MaxKeyLen] (or, with a Store, whose
//     store key is): 400 Bad Request, a problem body, nothing limited;
//   - a Store that cannot decide: 503 Service Unavailable without RateLimit
//     fields, since a limit that cannot be checked is the server's
//     problem, not the client's excess; the limit fails closed;
//   - the request's context ends while it waits for a token: 503, and the
//     token is given back.
//
// Events are those of k's Config: KindRejected for a refusal, and KindCall
// for every request limited, admitted (once the handler returned, with Err
// nil) or refused.
func Middleware(k *Keyed, key func(*http.Request) string) func(http.Handler) http.Handler {
	if k == nil {
		panic("ratelimit: Middleware: nil Keyed")
	}
	if key == nil {
		panic("ratelimit: Middleware: nil key function")
	}
	m := &middleware{k: k, key: key, name: policyName(k.emit.Name)}
	m.policy = m.name + ";q=" + strconv.Itoa(k.limit.Burst) + ";w=" + strconv.FormatInt(seconds(time.Duration(k.limit.interval()*float64(k.limit.Burst))), 10)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { m.serve(w, r, next) })
	}
}

type middleware struct {
	k      *Keyed
	key    func(*http.Request) string
	name   string // the policy's name, as a structured-field string
	policy string // the RateLimit-Policy field
}

func (m *middleware) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	key := m.key(r)
	if key == "" {
		next.ServeHTTP(w, r)
		return
	}
	lim, skey, err := m.k.find(key)
	if err != nil {
		badRequest(w)
		return
	}
	start := m.k.emit.Start()
	a, err := m.k.admit(r.Context(), lim, skey)
	var le *LimitedError
	switch {
	case err == nil:
		m.fields(w.Header(), lim, a)
		next.ServeHTTP(w, r)
		m.k.emit.Call(start, nil)
	case errors.As(err, &le) && le.Err == nil:
		m.fields(w.Header(), lim, a)
		m.k.emit.Call(start, err)
		httpreject.Write(w, err)
	default:
		// The store could not decide, or the client went away: either way
		// not the client's excess, so not 429.
		m.k.emit.Call(start, err)
		if le != nil {
			err = le.Err
		}
		httpreject.Write(w, err)
	}
}

// fields sets the RateLimit fields after a decision of lim (nil with a
// Store, whose decision a holds).
func (m *middleware) fields(h http.Header, b *bucket, a admission) {
	remaining, reset := a.dec.Remaining, a.dec.ResetAfter
	if m.k.store == nil {
		rel := b.rel()
		t := m.k.limit.interval()
		tau := t * float64(m.k.limit.Burst)
		remaining = wholeTokens((tau-float64(rel)+min(1, t/2))/t, m.k.limit.Burst)
		reset = time.Duration(rel)
	}
	h.Set("RateLimit-Policy", m.policy)
	h.Set("RateLimit", m.name+";r="+strconv.Itoa(remaining)+";t="+strconv.FormatInt(seconds(reset), 10))
}

// seconds is d in whole seconds, rounded up.
func seconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// policyName is name as a structured-field string, or "default" for an
// empty name or one with a character a string may not hold.
func policyName(name string) string {
	if name == "" {
		return `"default"`
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < 0x20 || c > 0x7e {
			return `"default"`
		}
		if c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	b.WriteByte('"')
	return b.String()
}

// badRequest answers a request whose key no limit can hold.
func badRequest(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write([]byte(`{"type":"about:blank","title":"Bad request","status":400,"detail":"The request's rate limit key is not valid."}` + "\n"))
}

// ClientIP returns the host part of r.RemoteAddr: the address of the peer
// that opened the connection, as a key for [Middleware]. It never reads
// X-Forwarded-For, Forwarded or X-Real-IP, which any client can set: behind
// a proxy every request then has the proxy's address, and a key function
// that trusts the proxy's header should take the address the trusted proxy
// appended (the last entry), not the first. A RemoteAddr without a port is
// returned as it is; an empty one gives "" (not limited).
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
