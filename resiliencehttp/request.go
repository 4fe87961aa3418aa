package resiliencehttp

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/idempotency"
)

// keyHeader is the request header that carries an idempotency key, as in
// the IETF Idempotency-Key header draft.
const keyHeader = "Idempotency-Key"

// withKey returns req, or a copy of it whose Idempotency-Key header is the
// key carried by its context, as an RFC 8941 string, when it has one and
// req has no such header. The caller's request is never modified. A key
// that an RFC 8941 string cannot carry gives an error matching
// idempotency.ErrInvalidKey, marked resilience.Permanent.
func withKey(req *http.Request) (*http.Request, error) {
	key, ok := idempotency.KeyFrom(req.Context())
	if !ok {
		return req, nil
	}
	if _, set := req.Header[keyHeader]; set {
		return req, nil
	}
	v, err := quoteKey(key)
	if err != nil {
		return nil, resilience.Permanent(err)
	}
	r := req.WithContext(req.Context()) // a shallow copy
	r.Header = req.Header.Clone()
	if r.Header == nil {
		r.Header = make(http.Header, 1)
	}
	r.Header[keyHeader] = []string{v}
	return r, nil
}

// quoteKey returns key as an RFC 8941 string: between double quotes, with
// \ and " escaped by a backslash. It refuses, with an error matching
// idempotency.ErrInvalidKey, a key longer than idempotency.MaxKeyLen
// bytes or with a byte that such a string cannot carry (anything but
// printable ASCII, space included): the server could not read it back.
func quoteKey(key string) (string, error) {
	if len(key) > idempotency.MaxKeyLen {
		return "", fmt.Errorf("resiliencehttp: %w: %d bytes, more than %d", idempotency.ErrInvalidKey, len(key), idempotency.MaxKeyLen)
	}
	escapes := 0
	for i := range len(key) {
		switch c := key[i]; {
		case c < ' ' || c > '~':
			return "", fmt.Errorf("resiliencehttp: %w: byte %#02x at %d is not printable ASCII", idempotency.ErrInvalidKey, c, i)
		case c == '"' || c == '\\':
			escapes++
		}
	}
	var b strings.Builder
	b.Grow(len(key) + escapes + 2)
	b.WriteByte('"')
	for i := range len(key) {
		if c := key[i]; c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(key[i])
	}
	b.WriteByte('"')
	return b.String(), nil
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

// hedgeable reports whether a hedge policy may send req more than once at
// the same time: only GET, HEAD and OPTIONS, which change nothing on the
// server. Idempotent is not enough: two concurrent PUTs or DELETEs may
// interleave with other writers, and a keyed POST would get 409 from an
// idempotency server for its second copy.
func hedgeable(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return false
}

// keyed reports whether req sends an Idempotency-Key.
func keyed(req *http.Request) bool {
	return req != nil && req.Header.Get(keyHeader) != ""
}

// hasBody reports whether req has a body to send.
func hasBody(req *http.Request) bool {
	return req.Body != nil && req.Body != http.NoBody
}

// rewindable reports whether req's body can be sent again.
func rewindable(req *http.Request) bool {
	return !hasBody(req) || req.GetBody != nil
}
