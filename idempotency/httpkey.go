package idempotency

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// HeaderKey is the request header carrying the key (IETF
// draft-ietf-httpapi-idempotency-key-header).
const HeaderKey = "Idempotency-Key"

// HeaderReplayed is set to "true" on responses replayed from the store.
const HeaderReplayed = "Idempotent-Replayed"

var errMalformedKey = errors.New("malformed Idempotency-Key header")

// parseKey reads the Idempotency-Key header: a structured-field string
// ("...", with \" and \\ escapes) as the draft specifies, or the bare token
// many clients send. It returns "" without error when the header is absent.
func parseKey(h http.Header) (string, error) {
	values := h[HeaderKey] // the name is canonical: h.Values without its canonicalisation
	switch len(values) {
	case 0:
		return "", nil
	case 1:
	default:
		return "", errMalformedKey
	}
	v := strings.TrimSpace(values[0])
	if strings.HasPrefix(v, `"`) {
		return unquote(v)
	}
	if v == "" || len(v) > MaxKeyLen {
		return "", errMalformedKey
	}
	for i := range len(v) {
		if v[i] <= ' ' || v[i] > '~' || v[i] == '"' || v[i] == '\\' {
			return "", errMalformedKey
		}
	}
	return v, nil
}

// unquote parses an RFC 8941 string: printable ASCII between quotes, with
// only \" and \\ escaped.
func unquote(v string) (string, error) {
	if len(v) < 3 || v[len(v)-1] != '"' {
		return "", errMalformedKey
	}
	v = v[1 : len(v)-1]
	if !strings.ContainsAny(v, `"\`) {
		if !printable(v) || len(v) > MaxKeyLen {
			return "", errMalformedKey
		}
		return v, nil
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '"':
			return "", errMalformedKey
		case c == '\\':
			i++
			if i == len(v) || (v[i] != '"' && v[i] != '\\') {
				return "", errMalformedKey
			}
			c = v[i]
		}
		b.WriteByte(c)
	}
	if s := b.String(); printable(s) && len(s) <= MaxKeyLen {
		return s, nil
	}
	return "", errMalformedKey
}

func printable(s string) bool {
	for i := range len(s) {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// appendScopedKey appends the store key for a tenant's key to b. The
// tenant is length prefixed, so no two (tenant, key) pairs collide; a pair
// too long for a store key is hashed (hashed keys start with '#', the
// others with a digit).
func appendScopedKey(b []byte, tenant, key string) []byte {
	start := len(b)
	b = appendLen(b, len(tenant))
	b = append(b, ':')
	b = append(b, tenant...)
	b = append(b, key...)
	if len(b)-start <= MaxKeyLen {
		return b
	}
	sum := sha256.Sum256(b[start:])
	return append(append(b[:start], '#'), sum[:]...)
}

// appendFingerprint appends to b a SHA-256 of what identifies a request:
// method, path, query, the caller's credentials (the Authorization header
// values) when withCredentials is set, and the body. Only the hash is
// stored, never the credentials.
func appendFingerprint(b []byte, r *http.Request, body []byte, canonicalJSON, withCredentials bool) []byte {
	// The parts before the body are length-prefixed, so that no two
	// sequences of parts hash alike, and written in one piece.
	var buf [256]byte
	parts := appendPart(buf[:0], r.Method)
	parts = appendPart(parts, r.URL.EscapedPath())
	parts = appendPart(parts, r.URL.RawQuery)
	if withCredentials {
		auth := r.Header["Authorization"] // canonical: r.Header.Values without its canonicalisation
		parts = append(appendLen(parts, len(auth)), ':')
		for _, v := range auth {
			parts = appendPart(parts, v)
		}
	}
	// The body's form is part of the hash, so a body hashed raw never
	// matches one hashed canonical, whatever their bytes.
	form := "raw"
	if canonicalJSON && isJSON(r.Header.Get("Content-Type")) {
		if c, ok := canonical(body); ok {
			form, body = "json", c
		}
	}
	parts = appendPart(parts, form)
	h := sha256.New()
	_, _ = h.Write(parts)
	_, _ = h.Write(body)
	return h.Sum(b)
}

// appendPart appends part, prefixed with its length.
func appendPart(b []byte, part string) []byte {
	b = appendLen(b, len(part))
	b = append(b, ':')
	return append(b, part...)
}

// appendLen appends n ≥ 0 in decimal, as strconv.AppendInt does, and a
// digit without a call.
func appendLen(b []byte, n int) []byte {
	if n < 10 {
		return append(b, byte('0'+n))
	}
	return strconv.AppendInt(b, int64(n), 10)
}

func isJSON(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// maxJSONDepth bounds the nesting canonical follows.
const maxJSONDepth = 512

// canonical re-encodes one JSON document with object keys sorted and
// insignificant white space removed; numbers keep their text. It reports
// false, and the body is fingerprinted by its raw bytes, when the
// re-encoding could make two different bodies equal or is not defined:
// the body is not one valid JSON document, is not valid UTF-8, holds an
// escaped lone surrogate (\ud800: decoders turn both into U+FFFD), has an
// object with a repeated key (decoders disagree on which one wins), or
// nests deeper than 512.
func canonical(body []byte) ([]byte, bool) {
	if !utf8.Valid(body) || loneSurrogate(body) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	out, err := appendCanonical(nil, dec, 0)
	if err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return out, true
}

var errNotCanonical = errors.New("not canonical")

// appendCanonical appends the canonical form of the next JSON value of dec.
func appendCanonical(out []byte, dec *json.Decoder, depth int) ([]byte, error) {
	if depth > maxJSONDepth {
		return nil, errNotCanonical
	}
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := t.(type) {
	case json.Delim:
		if t == '[' {
			return appendArray(out, dec, depth)
		}
		if t == '{' {
			return appendObject(out, dec, depth)
		}
		return nil, errNotCanonical
	case string:
		return appendString(out, t), nil
	case json.Number:
		return append(out, t...), nil
	case bool:
		return strconv.AppendBool(out, t), nil
	case nil:
		return append(out, "null"...), nil
	}
	return nil, errNotCanonical
}

func appendArray(out []byte, dec *json.Decoder, depth int) ([]byte, error) {
	out = append(out, '[')
	for i := 0; dec.More(); i++ {
		if i > 0 {
			out = append(out, ',')
		}
		var err error
		if out, err = appendCanonical(out, dec, depth+1); err != nil {
			return nil, err
		}
	}
	if _, err := dec.Token(); err != nil { // ']'
		return nil, err
	}
	return append(out, ']'), nil
}

func appendObject(out []byte, dec *json.Decoder, depth int) ([]byte, error) {
	type member struct {
		key   string
		value []byte
	}
	var members []member
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := t.(string)
		value, err := appendCanonical(nil, dec, depth+1)
		if err != nil {
			return nil, err
		}
		members = append(members, member{key, value})
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, err
	}
	slices.SortFunc(members, func(a, b member) int { return strings.Compare(a.key, b.key) })
	out = append(out, '{')
	for i, m := range members {
		if i > 0 {
			if m.key == members[i-1].key {
				return nil, errNotCanonical
			}
			out = append(out, ',')
		}
		out = appendString(out, m.key)
		out = append(out, ':')
		out = append(out, m.value...)
	}
	return append(out, '}'), nil
}

func appendString(out []byte, s string) []byte {
	b, _ := json.Marshal(s) // a string always encodes
	return append(out, b...)
}

// loneSurrogate reports whether body holds a \u escape of a UTF-16
// surrogate that is not part of a high-low pair. Outside strings a
// backslash is invalid JSON anyway, so the whole body is scanned.
func loneSurrogate(body []byte) bool {
	pendingHigh := false // the previous escape was a high surrogate
	for i := 0; i < len(body); i++ {
		if body[i] != '\\' {
			if pendingHigh {
				return true
			}
			continue
		}
		if i+1 == len(body) {
			return pendingHigh
		}
		i++
		if body[i] != 'u' {
			if pendingHigh {
				return true
			}
			continue // a two-character escape such as \\ or \"
		}
		r, ok := hex4(body[i+1:])
		if !ok {
			return false // not valid JSON: the decoder refuses it
		}
		i += 4
		switch {
		case r >= 0xD800 && r < 0xDC00:
			if pendingHigh {
				return true
			}
			pendingHigh = true
		case r >= 0xDC00 && r < 0xE000:
			if !pendingHigh {
				return true
			}
			pendingHigh = false
		default:
			if pendingHigh {
				return true
			}
		}
	}
	return pendingHigh
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
