package resiliencehttp

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/internal/httpreject"
)

// Handler returns an http.Handler that serves each request by running next
// inside p.Do: the server side's load shedding, with a policy that guards
// the server rather than a call it makes — a bulkhead, a rate limit, an
// adaptive concurrency limit, a timeout, or a chain of them.
//
//	limit := bulkhead.New(bulkhead.Config{MaxConcurrent: 100})
//	http.Handle("/charges", resiliencehttp.Handler(limit, charges))
//
// p must run its operation at most once, in the calling goroutine, as those
// policies do. A retry or hedge policy here would run the handler twice
// against one ResponseWriter: do not use one (retry on the client, with
// [Transport]).
//
// What p sees of a request, as the operation's error:
//   - nil when the handler answered a status below 500 (nothing written is
//     an implicit 200, unless p's context had ended: see below);
//   - a [*StatusError] with the status (and the handler's Retry-After, if it
//     set one) when it answered 500 or above, so that a breaker or an
//     adaptive limiter sees the server overloaded or failing;
//   - the request context's error when the client went away (the request's
//     context ended) during the handler, whatever the handler then wrote,
//     so that an adaptive limiter takes no latency sample from it and a
//     breaker counts no failure: it is the caller's own cancellation;
//   - p's context's error when that context (not the request's) ended and
//     the handler returned without writing anything: a timeout's deadline
//     cut it short, and the timeout reports it as such.
//
// What the client gets:
//   - the handler's response, whenever the handler ran and wrote one —
//     even if p then returned an error (a timeout whose deadline passed
//     after the handler answered): a response already written stands;
//   - when p refused the request without running the handler (an error
//     matching resilience.ErrRejected: a full bulkhead, a rate limit, an
//     adaptive limit), 429 Too Many Requests for a rate limit's refusal
//     (an error with RateLimited() true) or 503 Service Unavailable for a
//     lack of capacity, with a Retry-After rounded up to whole seconds when
//     the refusal carries a hint (resilience.RetryAfter), and an
//     application/problem+json body that does not echo the error;
//   - the same 503 (or 429) when p returned any other error and nothing was
//     written: the handler ran and wrote nothing before a timeout, or p
//     failed without running it.
//
// The ResponseWriter the handler gets passes http.Flusher and
// http.ResponseController through (it has Unwrap). The handler reads p's
// context (its deadline, say) from the request's Context; the request is
// copied only when p changed it. Handler panics if p or next is nil.
func Handler(p resilience.Policy, next http.Handler) http.Handler {
	switch {
	case p == nil:
		panic("resiliencehttp: Handler: nil policy")
	case next == nil:
		panic("resiliencehttp: Handler: nil handler")
	}
	return &handler{p: p, next: next}
}

type handler struct {
	p    resilience.Policy
	next http.Handler
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	err := h.p.Do(r.Context(), func(ctx context.Context) error {
		req := r
		if ctx != r.Context() {
			req = r.WithContext(ctx)
		}
		h.next.ServeHTTP(sw, req)
		return served(ctx, r, sw)
	})
	if err != nil && sw.status == 0 {
		httpreject.Write(w, err)
	}
}

// served is what p sees of a request the handler served under ctx, p's
// context (see Handler).
func served(ctx context.Context, r *http.Request, sw *statusWriter) error {
	if err := r.Context().Err(); err != nil {
		return err // the client went away
	}
	if sw.status == 0 && ctx.Err() != nil {
		return ctx.Err() // p's deadline ended the handler before it answered
	}
	if sw.status < http.StatusInternalServerError {
		return nil
	}
	se := &StatusError{StatusCode: sw.status, Status: statusLine(sw.status)}
	if d, ok := ParseRetryAfter(sw.Header().Get("Retry-After"), time.Now()); ok {
		se.Wait = d
	}
	return se
}

// statusLine is code as a response's status line reads, "503 Service
// Unavailable".
func statusLine(code int) string {
	if text := http.StatusText(code); text != "" {
		return strconv.Itoa(code) + " " + text
	}
	return strconv.Itoa(code)
}

// statusWriter records the status of the response the handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int // the final status written; 0 until then
}

// WriteHeader records a final status (not a 1xx) and writes it.
func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write writes body bytes, with an implicit 200 if no status was written.
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush sends what was written so far, with an implicit 200 if no status
// was written, when the underlying writer can flush.
func (w *statusWriter) Flush() {
	if http.NewResponseController(w.ResponseWriter).Flush() == nil && w.status == 0 {
		w.status = http.StatusOK
	}
}

// Unwrap returns the underlying ResponseWriter, for http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
