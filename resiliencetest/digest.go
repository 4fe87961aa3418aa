package resiliencetest

import (
	"crypto/sha256"
	"encoding/base64"
)

// digestHeader is the header in which a [FaultyHandler] sends a body's
// checksum, as resiliencehttp.DigestHeader names it.
const digestHeader = "Content-Digest"

// contentDigest returns the RFC 9530 Content-Digest value of body, as
// resiliencehttp.ContentDigest does. It is written here rather than
// imported so that this package depends on the root package alone, and the
// internal tests of every other package can import it.
func contentDigest(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
}

// wrongDigest returns a well-formed Content-Digest value that does not match
// body.
func wrongDigest(body []byte) string {
	return contentDigest(append(append([]byte(nil), body...), 0))
}
