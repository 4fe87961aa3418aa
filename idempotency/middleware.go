package idempotency

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/magicmagnets/resilience"
)

// MiddlewareConfig configures [Middleware]. The zero value of every field
// means the documented default.
type MiddlewareConfig struct {
	// Methods are the request methods guarded. Nil means POST and PATCH;
	// other requests pass through untouched.
	Methods []string
	// RequireKey answers a guarded request without an Idempotency-Key header
	// with 400. By default such a request passes through unprotected.
	RequireKey bool
	// Tenant, if set, scopes keys: requests of different tenants never
	// share a record even with equal keys. It typically returns the
	// authenticated account.
	Tenant func(*http.Request) string
	// CanonicalJSON fingerprints JSON bodies (Content-Type application/json
	// or *+json) by their content, so a retry whose encoder ordered the
	// object keys or spaced the document differently still matches.
	CanonicalJSON bool
	// MaxBodySize bounds the request body read for fingerprinting; a larger
	// body gets 413. Zero means 1 MiB.
	MaxBodySize int64
	// MaxResponseSize bounds the response recorded; a larger one is sent
	// but not recorded (the key is released). Zero means 1 MiB; it should
	// not exceed the store's result limit.
	MaxResponseSize int
	// StoreAllStatuses records every response. By default every final
	// response is recorded, 5xx included (a handler that charged and then
	// failed must not charge again on the retry), except those that mean
	// "not processed, try again": 408, 409, 425, 429 and 503. A handler that
	// knows it did nothing lasting can release the key itself with
	// [ReleaseKey].
	StoreAllStatuses bool
	// InProgressRetryAfter is the Retry-After sent with the 409 that answers
	// a request whose key is in progress: a short wait before asking again
	// (the first request usually finishes well within its lease). Zero
	// means 1s; it is sent in whole seconds, at least 1.
	InProgressRetryAfter time.Duration
	// RunWithoutStore makes a request whose claim fails because the store
	// is unavailable (or full) run the handler unprotected. By default it
	// gets 503.
	RunWithoutStore bool
	// Lease and Retention mean what they mean in [Options] (defaults 30s and
	// 24h); the lease is kept alive while the handler runs.
	Lease     time.Duration
	Retention time.Duration
	// Name is copied into every Event.
	Name string
	// Observer receives KindReplay and KindRejected events. Nil means none.
	Observer resilience.Observer
}

// Middleware returns HTTP server middleware that makes guarded requests
// idempotent following the IETF Idempotency-Key header draft
// (draft-ietf-httpapi-idempotency-key-header).
//
// The key comes from the Idempotency-Key header, as a structured-field
// string ("...") or bare; it is scoped by Config.Tenant. The request is
// fingerprinted over method, path, query and body. Then:
//
//   - missing key: passes through, or 400 with RequireKey;
//   - malformed key (empty, over 255 bytes, not printable ASCII, repeated
//     header): 400;
//   - body over MaxBodySize: 413;
//   - the first request with the key: the handler runs and its response is
//     sent and, if its status qualifies, recorded without Set-Cookie,
//     Authorization and hop-by-hop headers;
//   - while that request runs: 409 with a short Retry-After
//     (InProgressRetryAfter, 1s by default, not the remaining lease);
//   - the key reused for a different request: 422;
//   - a recorded request: the stored status, headers and body with
//     Idempotent-Replayed: true; the handler is not called;
//   - the store unavailable: 503, or the handler runs unprotected with
//     RunWithoutStore.
//
// Error responses are application/problem+json (RFC 9457). A handler that
// panics releases the key; the panic goes on. The handler's request context
// carries the key and fence ([FenceFrom]); the lease is kept alive while the
// handler runs even if the client hangs up, and if the lease is lost the
// request context is cancelled with cause ErrLockLost. Once the handler has
// returned a response to record, the key is never released: if the store
// fails to take it, the middleware keeps the lease and retries until it is
// recorded or the lease can no longer be held. A response too large to
// record is recorded as a 500 problem response saying so.
//
// Middleware panics if store is nil or a size or duration in c is negative.
func Middleware(store Store, c MiddlewareConfig) func(http.Handler) http.Handler {
	if store == nil {
		panic("idempotency: Middleware: nil store")
	}
	if c.MaxBodySize < 0 || c.MaxResponseSize < 0 || c.Lease < 0 || c.Retention < 0 || c.InProgressRetryAfter < 0 {
		panic(fmt.Sprintf("idempotency: Middleware: negative size or duration in %+v", c))
	}
	if c.Methods == nil {
		c.Methods = []string{http.MethodPost, http.MethodPatch}
	}
	if c.MaxBodySize == 0 {
		c.MaxBodySize = 1 << 20
	}
	if c.MaxResponseSize == 0 {
		c.MaxResponseSize = 1 << 20
	}
	if c.InProgressRetryAfter == 0 {
		c.InProgressRetryAfter = time.Second
	}
	c.Lease = Options{Lease: c.Lease}.withDefaults().Lease
	c.Retention = Options{Retention: c.Retention}.withDefaults().Retention
	return func(next http.Handler) http.Handler {
		return &middleware{store: store, c: c, next: next}
	}
}

type middleware struct {
	store Store
	c     MiddlewareConfig
	next  http.Handler
}

func (m *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !slices.Contains(m.c.Methods, r.Method) {
		m.next.ServeHTTP(w, r)
		return
	}
	key, err := parseKey(r.Header)
	switch {
	case err != nil:
		problem(w, http.StatusBadRequest, "Malformed Idempotency-Key", "The Idempotency-Key header must be one string of 1 to 255 printable ASCII characters.")
		return
	case key == "" && m.c.RequireKey:
		problem(w, http.StatusBadRequest, "Idempotency-Key is missing", "This operation requires an Idempotency-Key header.")
		return
	case key == "":
		m.next.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, m.c.MaxBodySize+1))
	switch {
	case err != nil:
		problem(w, http.StatusBadRequest, "Unreadable request body", err.Error())
		return
	case int64(len(body)) > m.c.MaxBodySize:
		problem(w, http.StatusRequestEntityTooLarge, "Request body too large", "The body exceeds "+strconv.FormatInt(m.c.MaxBodySize, 10)+" bytes.")
		return
	}
	r.Body = io.NopCloser(newBodyReader(body))

	tenant := ""
	if m.c.Tenant != nil {
		tenant = m.c.Tenant(r)
	}
	skey := scopedKey(tenant, key)
	fp := fingerprint(r, body, m.c.CanonicalJSON)
	claim, sent, err := claimKey(r.Context(), m.store, skey, fp, m.c.Lease)
	if err != nil {
		m.refuse(w, r, err)
		return
	}
	if claim.Replayed {
		m.emit(resilience.KindReplay, nil)
		if err := writeResponse(w, claim.Result); errors.Is(err, errBadResponse) {
			problem(w, http.StatusInternalServerError, "Stored response unreadable", "The response recorded for this key cannot be replayed.")
		}
		return
	}
	m.serve(w, r, skey, claim.Lock, sent)
}

// refuse answers a request whose claim failed.
func (m *middleware) refuse(w http.ResponseWriter, r *http.Request, err error) {
	var ip *InProgressError
	switch {
	case errors.As(err, &ip):
		m.emit(resilience.KindRejected, err)
		w.Header().Set("Retry-After", strconv.FormatInt(int64(max(1, (m.c.InProgressRetryAfter+time.Second-1)/time.Second)), 10))
		problem(w, http.StatusConflict, "Request in progress", "A request with this Idempotency-Key is still being processed; retry later.")
	case errors.Is(err, ErrMismatch):
		m.emit(resilience.KindRejected, err)
		problem(w, http.StatusUnprocessableEntity, "Idempotency-Key reused", "This Idempotency-Key was used for a different request.")
	case errors.Is(err, ErrInvalidKey):
		problem(w, http.StatusBadRequest, "Malformed Idempotency-Key", err.Error())
	case r.Context().Err() != nil:
		// The client went away; nobody reads an answer.
	case m.c.RunWithoutStore:
		m.next.ServeHTTP(w, r)
	default:
		problem(w, http.StatusServiceUnavailable, "Idempotency store unavailable", "The request was not processed; retry later.")
	}
}

// serve runs the handler as the key's owner and records its response.
func (m *middleware) serve(w http.ResponseWriter, r *http.Request, key string, lock Lock, sent time.Time) {
	own := own(r.Context(), m.store, key, lock, sent, m.c.Lease, m.c.Retention, m.emitDelay)
	// Headers already set belong to outer middleware: they are set again on
	// every replay, so they are not recorded.
	rec := &recorder{ResponseWriter: w, limit: m.c.MaxResponseSize, outer: w.Header().Clone()}
	finished := false
	defer func() {
		if !finished { // the handler panicked
			own.release()
		}
	}()
	m.next.ServeHTTP(rec, r.WithContext(own.opCtx))
	finished = true
	rec.finish()
	switch {
	case own.releaseAsked() || !m.storable(rec.status):
		own.release()
		return
	case rec.overflow:
		m.recordPlaceholder(own, "The response was larger than the recording limit.")
		return
	}
	err := own.record(encodeResponse(rec.status, rec.recorded(), rec.body))
	if errors.Is(err, ErrResultTooLarge) {
		m.recordPlaceholder(own, "The response was larger than the store accepts.")
	}
}

// recordPlaceholder records, in place of a response that cannot be stored,
// a 500 problem response saying the request was processed once.
func (m *middleware) recordPlaceholder(own *owner, why string) {
	body, h := problemBody(http.StatusInternalServerError, "Response not recorded",
		"This request was processed, but its response could not be recorded for replay. "+why)
	_ = own.record(encodeResponse(http.StatusInternalServerError, h, body))
}

func (m *middleware) storable(status int) bool {
	if m.c.StoreAllStatuses {
		return true
	}
	switch status {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusTooEarly, http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return false
	}
	return status >= 200
}

func (m *middleware) emit(kind resilience.Kind, err error) { m.emitDelay(kind, 0, err) }

func (m *middleware) emitDelay(kind resilience.Kind, delay time.Duration, err error) {
	if m.c.Observer != nil {
		m.c.Observer.Observe(resilience.Event{Policy: "idempotency", Name: m.c.Name, Kind: kind, Delay: delay, Err: err})
	}
}
