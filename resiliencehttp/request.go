package resiliencehttp

import (
	"net/http"

	"github.com/magicmagnets/resilience/idempotency"
)

// keyHeader is the request header that carries an idempotency key, as in
// the IETF Idempotency-Key header draft.
const keyHeader = "Idempotency-Key"

// withKey returns req, or a copy of it whose Idempotency-Key header is the
// key carried by its context when it has one and req has no such header.
// The caller's request is never modified.
func withKey(req *http.Request) *http.Request {
	key, ok := idempotency.KeyFrom(req.Context())
	if !ok {
		return req
	}
	if _, set := req.Header[keyHeader]; set {
		return req
	}
	r := req.WithContext(req.Context()) // a shallow copy
	r.Header = req.Header.Clone()
	if r.Header == nil {
		r.Header = make(http.Header, 1)
	}
	r.Header[keyHeader] = []string{key}
	return r
}

// idempotent reports whether req may be sent more than once: its method is
// idempotent by definition (RFC 9110, section 9.2.2), or it carries an
// Idempotency-Key header. As in net/http, a header present with no value
// also counts: it marks the request idempotent without sending a key.
func idempotent(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete, http.MethodTrace:
		return true
	}
	_, ok := req.Header[keyHeader]
	return ok
}

// hasBody reports whether req has a body to send.
func hasBody(req *http.Request) bool {
	return req.Body != nil && req.Body != http.NoBody
}

// rewindable reports whether req's body can be sent again.
func rewindable(req *http.Request) bool {
	return !hasBody(req) || req.GetBody != nil
}
