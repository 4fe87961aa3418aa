package idempotency

import (
	"crypto/sha256"
	"errors"
	"io"
	"math"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/internal/emit"
)

// MiddlewareConfig configures [Middleware]. The zero value of every field
// means the documented default; [MiddlewareConfig.Validate] reports the
// values Middleware panics on.
type MiddlewareConfig struct {
	// Methods are the request methods guarded. Nil means POST and PATCH;
	// an empty, non-nil slice guards nothing. Other requests pass through
	// untouched.
	Methods []string
	// RequireKey answers a guarded request without an Idempotency-Key header
	// with 400. By default such a request passes through unprotected.
	RequireKey bool
	// Tenant, if set, scopes keys: requests of different tenants never
	// share a record even with equal keys. It typically returns the
	// authenticated account. It replaces the default scoping by
	// credentials: without Tenant, the request's Authorization header is
	// part of the fingerprint (hashed; it is never stored), so another
	// caller reusing or guessing a key gets 422, never the first caller's
	// response. A client that changes its Authorization between retries (a
	// refreshed token) then gets 422 too: a refused retry, never a second
	// run. Set Tenant to the account to let such retries replay, and when
	// callers authenticate by other means than Authorization (a session
	// cookie, a client certificate). Tenant is called once the body has
	// been read for the fingerprint, and must not read it: the body goes to
	// the handler.
	Tenant func(*http.Request) string
	// CanonicalJSON fingerprints JSON bodies (Content-Type application/json
	// or *+json) by their content, so a retry whose encoder ordered the
	// object keys or spaced the document differently still matches. A body
	// whose content has no single reading is fingerprinted by its raw
	// bytes instead, so it matches only itself: a body that is not one
	// valid JSON document, is not valid UTF-8, escapes a lone UTF-16
	// surrogate (\ud800), repeats a key in an object, or nests deeper than
	// 512.
	CanonicalJSON bool
	// MaxBodySize bounds the request body, which is read into memory for
	// fingerprinting; a larger body gets 413 and the handler does not run.
	// Zero means 1 MiB; math.MaxInt64 means no bound but memory.
	MaxBodySize int64
	// MaxResponseSize bounds the response body recorded. A larger
	// response is sent in full, but the replay of the key is a 500 problem
	// response saying the response could not be recorded (the handler
	// ran; it does not run again). So is a response larger than the
	// store's result limit. Zero means 1 MiB.
	MaxResponseSize int
	// StoreAllStatuses records every response. By default every final
	// response is recorded, 5xx included (a handler that charged and then
	// failed must not charge again on the retry), except those that mean
	// "not processed, try again": 408, 409, 425, 429 and 503. A handler that
	// knows it did nothing lasting can release the key itself with
	// [ReleaseKey].
	StoreAllStatuses bool
	// ExcludeHeaders names response headers never recorded (so never
	// replayed), in addition to Set-Cookie, Authorization,
	// Proxy-Authorization, the hop-by-hop headers (Connection and those it
	// names, Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding,
	// Upgrade), Content-Length and Date. Names match case-insensitively.
	ExcludeHeaders []string
	// InProgressRetryAfter is the Retry-After sent with the 409 that answers
	// a request whose key is in progress: a short wait before asking again
	// (the first request usually finishes well within its lease). Zero
	// means 1s; it is sent in whole seconds, rounded up, at least 1.
	InProgressRetryAfter time.Duration
	// RunWithoutStore makes a request whose claim fails because the store
	// is unavailable (or full) run the handler unprotected. By default it
	// gets 503.
	RunWithoutStore bool
	// Lease and Retention mean what they mean in [Options] (zero means 30s
	// and 24h); the lease is kept alive while the handler runs, and each
	// store call is bounded by a third of it (at most 5s). A lease shorter
	// than the store's round trip is lost at once (the handler's context is
	// cancelled with cause ErrLockLost; its response is still recorded if
	// nobody took the key over). The memory store takes math.MaxInt64 as
	// never, for both: a crashed owner's lease then never ends either.
	Lease     time.Duration
	Retention time.Duration
	// Name is copied into every Event.
	Name string
	// Observer receives a KindCall event for every request that carries a
	// key (Duration; Err is the claim's error when the request was refused,
	// nil otherwise), KindReplay and KindRejected events, and, when the
	// store fails to take a response, KindRetry before each new try, then
	// KindRecorded or KindGiveUp (as for [Options.Observer]). Nil means
	// none.
	Observer resilience.Observer
}

// Middleware returns HTTP server middleware that makes guarded requests
// idempotent following the IETF Idempotency-Key header draft
// (draft-ietf-httpapi-idempotency-key-header).
//
// The key comes from the Idempotency-Key header, as a structured-field
// string ("...") or bare; it is scoped by Config.Tenant. The request is
// fingerprinted over method, path, query, body and, unless Tenant is set,
// the caller's Authorization header. Then:
//
//   - missing key: passes through, or 400 with RequireKey;
//   - malformed key (empty, over 255 bytes, not printable ASCII, repeated
//     header): 400;
//   - body over MaxBodySize: 413; a body that cannot be read: 400;
//   - the first request with the key: the handler runs and its response is
//     sent and, unless its status means "not processed" (408, 409, 425,
//     429, 503), recorded;
//   - while that request runs: 409 with a short Retry-After
//     (InProgressRetryAfter, 1s by default, not the remaining lease);
//   - the key reused for a different request, or by another caller: 422;
//   - a recorded request: the stored status, headers and body with
//     Idempotent-Replayed: true; the handler is not called;
//   - the store unavailable: 503, or the handler runs unprotected with
//     RunWithoutStore.
//
// Error responses are application/problem+json (RFC 9457).
//
// The replay equals the response the first client got, in status, headers
// and body, whatever the handler did: an implicit 200 with the headers set
// before it returned, a Flush before WriteHeader (the client got 200, so
// 200 is recorded). Headers set before the handler ran, by outer
// middleware, are not recorded (outer middleware sets them again on the
// replay); recorded headers replace any of the same name on the replay, so
// none is doubled. Set-Cookie, Authorization, hop-by-hop headers and
// ExcludeHeaders are never recorded, whatever the case of their names. The
// handler's writer passes http.Flusher and http.ResponseController's
// methods through, so streaming handlers work.
//
// Ownership. The handler's request context carries the key and fence
// ([FenceFrom]). The lease is kept alive while the handler runs even if
// the client hangs up; if it is lost, the request context is cancelled with
// cause ErrLockLost. The request context does end when the client hangs
// up: a handler that stops then and answers (a 500, say) has that answer
// recorded, unless it answers 503 or calls [ReleaseKey]. Once the handler
// has returned a response to record, the key is never released: if the
// store fails to take it, the middleware keeps the lease and retries until
// it is recorded or the lease can no longer be held (then the key stays in
// progress until its lease ends, and a retry after that runs the handler
// again with a higher fence). The response goes out as the handler writes
// it, but the request ends only once it is recorded: while the store fails,
// for up to a lease. A handler that panics releases the key; the panic goes
// on.
//
// Middleware panics if store is nil or a size or duration in c is negative
// ([MiddlewareConfig.Validate]).
func Middleware(store Store, c MiddlewareConfig) func(http.Handler) http.Handler {
	if store == nil {
		panic("idempotency: Middleware: nil store")
	}
	if err := c.Validate(); err != nil {
		panic(err.Error())
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
	exclude := make(map[string]bool, len(unrecorded)+len(c.ExcludeHeaders))
	for _, name := range slices.Concat(unrecorded, c.ExcludeHeaders) {
		exclude[textproto.CanonicalMIMEHeaderKey(name)] = true
	}
	retryAfter := strconv.FormatInt(int64(c.InProgressRetryAfter/time.Second), 10)
	if c.InProgressRetryAfter%time.Second != 0 {
		retryAfter = strconv.FormatInt(int64(c.InProgressRetryAfter/time.Second)+1, 10)
	}
	return func(next http.Handler) http.Handler {
		return &middleware{store: store, mem: memoryStore(store), c: c, exclude: exclude, retryAfter: retryAfter, next: next,
			em: emit.Emitter{Policy: "idempotency", Name: c.Name, Observer: c.Observer}}
	}
}

type middleware struct {
	store      Store
	mem        *MemoryStore // store, if it is a memory store (claimKey)
	c          MiddlewareConfig
	exclude    map[string]bool // canonical names of the headers never recorded
	retryAfter string          // the 409's Retry-After
	next       http.Handler
	em         emit.Emitter
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
	start := m.em.Start()
	var refused error
	var pooled *bodyBuffer // where the body is read, if it is not small
	var into []byte
	if r.ContentLength < 0 || r.ContentLength >= minPooledBody {
		pooled = bodyBuffers.Get().(*bodyBuffer)
		into = pooled.b[:0]
	}
	handed := false // the handler got the body: its buffer is not reused
	defer func() {
		if pooled != nil {
			pooled.put(handed)
		}
		m.em.Call(start, refused)
	}()
	limit := m.c.MaxBodySize
	if limit < math.MaxInt64 {
		limit++ // one byte more tells a body over the bound
	}
	body, err := readBody(into, r.Body, r.ContentLength, limit)
	if pooled != nil {
		pooled.b = body
	}
	switch {
	case err != nil:
		problem(w, http.StatusBadRequest, "Unreadable request body", err.Error())
		return
	case int64(len(body)) > m.c.MaxBodySize:
		problem(w, http.StatusRequestEntityTooLarge, "Request body too large", "The body exceeds "+strconv.FormatInt(m.c.MaxBodySize, 10)+" bytes.")
		return
	}

	tenant := ""
	if m.c.Tenant != nil {
		tenant = m.c.Tenant(r)
	}
	// The store key and the fingerprint are built in one buffer on the
	// stack: a memory store answers a replay from them as they are, and a
	// claim gets both cut from one string.
	var buf [MaxKeyLen + sha256.Size]byte
	ids := appendScopedKey(buf[:0], tenant, key)
	n := len(ids)
	ids = appendFingerprint(ids, r, body, m.c.CanonicalJSON, m.c.Tenant == nil)
	if m.mem != nil {
		if result, ok := replay(r.Context(), m.mem, ids[:n], ids[n:]); ok {
			m.writeReplay(w, result)
			return
		}
	}
	s := string(ids)
	skey, fp := s[:n], s[n:]
	claim, sent, err := sendClaim(r.Context(), m.store, skey, fp, m.c.Lease)
	if err != nil {
		refused = err
		if m.refuse(w, r, err) {
			r.Body, handed = newBodyReader(body), true
			m.next.ServeHTTP(w, r)
		}
		return
	}
	if claim.Replayed {
		m.writeReplay(w, claim.Result)
		return
	}
	r.Body, handed = newBodyReader(body), true // the handler reads the bytes read here
	m.serve(w, r, skey, claim.Lock, sent)
}

// writeReplay answers a request with the response recorded for its key.
func (m *middleware) writeReplay(w http.ResponseWriter, stored []byte) {
	m.emit(resilience.KindReplay, nil)
	if err := writeResponse(w, stored); errors.Is(err, errBadResponse) {
		problem(w, http.StatusInternalServerError, "Stored response unreadable", "The response recorded for this key cannot be replayed.")
	}
}

// maxPresize bounds the buffer readBody sizes from a declared length, and
// the buffers bodyBuffers keeps.
const maxPresize = 64 << 10

// minPooledBody is the shortest declared body read into a buffer from
// bodyBuffers.
const minPooledBody = 512

// bodyBuffers keeps the buffers of request bodies that nothing holds once
// the request is answered (a replay, a refusal), for later requests' bodies.
// A body the handler got is never put back: the handler may keep it. A
// body declared shorter than minPooledBody is read into a buffer of its
// own, which costs less than taking one from the pool and putting it back
// (BenchmarkMiddlewareReplay1KiB, a 13-byte body); from about a kilobyte
// on, a reused buffer saves more than the allocation
// (BenchmarkMiddlewareReplayKiBBody).
var bodyBuffers = sync.Pool{New: func() any { return new(bodyBuffer) }}

type bodyBuffer struct{ b []byte }

// put returns b to bodyBuffers, without its buffer if the handler got it
// or it is larger than maxPresize.
func (b *bodyBuffer) put(handed bool) {
	if handed || cap(b.b) > maxPresize {
		b.b = nil
	}
	bodyBuffers.Put(b)
}

// readBody reads body into buf to its end or to limit bytes, whichever
// comes first, as io.ReadAll over an io.LimitReader does. A buffer too
// small grows to the declared length (plus the byte that finds the end),
// up to maxPresize, so a body whose length is known is read into one
// allocation at most.
func readBody(buf []byte, body io.Reader, declared, limit int64) ([]byte, error) {
	size := int64(512)
	if declared >= 0 && declared < maxPresize {
		size = declared + 1
	}
	if size = min(size, limit); int64(cap(buf)) < size {
		buf = make([]byte, 0, size)
	}
	for int64(len(buf)) < limit {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // grow as append does
		}
		end := len(buf) + int(min(int64(cap(buf)-len(buf)), limit-int64(len(buf))))
		n, err := body.Read(buf[len(buf):end])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// refuse answers a request whose claim failed, or reports that the handler
// is to run without the store (RunWithoutStore).
func (m *middleware) refuse(w http.ResponseWriter, r *http.Request, err error) (runUnprotected bool) {
	var ip *InProgressError
	switch {
	case errors.As(err, &ip):
		m.emit(resilience.KindRejected, err)
		w.Header().Set("Retry-After", m.retryAfter)
		problem(w, http.StatusConflict, "Request in progress", "A request with this Idempotency-Key is still being processed; retry later.")
	case errors.Is(err, ErrMismatch):
		m.emit(resilience.KindRejected, err)
		problem(w, http.StatusUnprocessableEntity, "Idempotency-Key reused", "This Idempotency-Key was used for a different request.")
	case errors.Is(err, ErrInvalidKey):
		problem(w, http.StatusBadRequest, "Malformed Idempotency-Key", err.Error())
	case r.Context().Err() != nil:
		// The client went away; nobody reads an answer.
	case m.c.RunWithoutStore:
		return true
	default:
		problem(w, http.StatusServiceUnavailable, "Idempotency store unavailable", "The request was not processed; retry later.")
	}
	return false
}

// serve runs the handler as the key's owner and records its response.
func (m *middleware) serve(w http.ResponseWriter, r *http.Request, key string, lock Lock, sent time.Time) {
	own := own(r.Context(), m.store, key, lock, sent, m.c.Lease, m.c.Retention, m.em)
	// Headers already set belong to outer middleware: they are set again on
	// every replay, so they are not recorded.
	rec := &recorder{ResponseWriter: w, limit: m.c.MaxResponseSize, outer: w.Header().Clone()}
	defer own.stop() // whatever panics (an observer, say), the heartbeat ends
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
	err := own.record(encodeResponse(rec.status, rec.recorded(m.exclude), rec.body))
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

func (m *middleware) emit(kind resilience.Kind, err error) {
	m.em.Emit(resilience.Event{Kind: kind, Err: err})
}
