package resiliencetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
)

// DigestHeader is the header in which a [FaultyHandler] sends the body's
// checksum, as defined by RFC 9530: "sha-256=:<base64 of the SHA-256 of the
// body>:".
const DigestHeader = "Content-Digest"

var (
	// ErrDigestMissing reports a response without a sha-256 Content-Digest.
	ErrDigestMissing = errors.New("resiliencetest: no sha-256 content digest")
	// ErrDigestMismatch reports a body whose SHA-256 differs from its
	// Content-Digest.
	ErrDigestMismatch = errors.New("resiliencetest: content digest mismatch")
)

// ContentDigest returns the Content-Digest value for body:
// "sha-256=:<base64>:".
func ContentDigest(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
}

// VerifyDigest checks body against the sha-256 member of the Content-Digest
// in h. It returns nil when they match, an error matching [ErrDigestMissing]
// when there is no such member, and one matching [ErrDigestMismatch] when
// the body differs. A client calls it on every response, after reading the
// whole body, and treats an error as a failed attempt.
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
			if err != nil {
				continue
			}
			return sum, true
		}
	}
	return nil, false
}

// wrongDigest returns a well-formed Content-Digest value that does not match
// body.
func wrongDigest(body []byte) string {
	return ContentDigest(append(append([]byte(nil), body...), 0))
}
