package resiliencehttp

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
)

// DigestHeader is the response header that carries a checksum of the body,
// as RFC 9530 defines it: "sha-256=:<base64 of the body's SHA-256>:".
const DigestHeader = "Content-Digest"

var (
	// ErrDigestMissing reports a response without a sha-256 Content-Digest.
	ErrDigestMissing = errors.New("resiliencehttp: no sha-256 content digest")
	// ErrDigestMismatch reports a body whose SHA-256 differs from its
	// Content-Digest.
	ErrDigestMismatch = errors.New("resiliencehttp: content digest mismatch")
)

// ContentDigest returns the Content-Digest value of body:
// "sha-256=:<base64>:". A server sets it with
// w.Header().Set(DigestHeader, ContentDigest(body)).
func ContentDigest(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
}

// VerifyDigest checks body against the sha-256 member of the Content-Digest
// in h, which may list other algorithms and span several header lines. It
// returns nil when they match, an error matching [ErrDigestMissing] when h
// has no well-formed sha-256 member, and one matching [ErrDigestMismatch]
// when the body differs.
//
// A client calls it with a response's header and its whole body, and treats
// an error as a failed attempt: it catches a body cut short with a
// Content-Length to match, or changed on its way, which [Config.BufferBody]
// cannot see.
func VerifyDigest(h http.Header, body []byte) error {
	want, ok := sha256Member(h.Values(DigestHeader))
	if !ok {
		return ErrDigestMissing
	}
	sum := sha256.Sum256(body)
	if !bytes.Equal(want, sum[:]) {
		return ErrDigestMismatch
	}
	return nil
}

// sha256Member finds the sha-256 member of a Content-Digest dictionary
// (possibly spread over several header lines) and decodes its byte
// sequence.
func sha256Member(values []string) ([]byte, bool) {
	for _, v := range values {
		for member := range strings.SplitSeq(v, ",") {
			name, val, ok := strings.Cut(strings.TrimSpace(member), "=")
			if !ok || name != "sha-256" || len(val) < 2 || val[0] != ':' || val[len(val)-1] != ':' {
				continue
			}
			sum, err := base64.StdEncoding.DecodeString(val[1 : len(val)-1])
			if err != nil || len(sum) != sha256.Size {
				continue
			}
			return sum, true
		}
	}
	return nil, false
}
