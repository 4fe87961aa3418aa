package idempotency

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
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
	values := h.Values(HeaderKey)
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

// scopedKey returns the store key for a tenant's key. The tenant is length
// prefixed, so no two (tenant, key) pairs collide; a pair too long for a
// store key is hashed (hashed keys start with '#', the others with a digit).
func scopedKey(tenant, key string) string {
	s := strconv.Itoa(len(tenant)) + ":" + tenant + key
	if len(s) <= MaxKeyLen {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return "#" + string(sum[:])
}

// fingerprint hashes what identifies a request: method, path, query, body.
func fingerprint(r *http.Request, body []byte, canonicalJSON bool) string {
	h := sha256.New()
	for _, part := range []string{r.Method, r.URL.EscapedPath(), r.URL.RawQuery} {
		_, _ = io.WriteString(h, strconv.Itoa(len(part)))
		_, _ = io.WriteString(h, ":")
		_, _ = io.WriteString(h, part)
	}
	if canonicalJSON && isJSON(r.Header.Get("Content-Type")) {
		body = canonical(body)
	}
	_, _ = h.Write(body)
	return string(h.Sum(nil))
}

func isJSON(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// canonical re-encodes a JSON document with object keys sorted and
// insignificant white space removed; numbers keep their text. A body that is
// not one valid JSON document is returned as it is.
func canonical(body []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil || dec.More() {
		return body
	}
	if _, err := dec.Token(); err != io.EOF {
		return body
	}
	out, err := json.Marshal(v)
	if err != nil {
		return body
	}
	return out
}
