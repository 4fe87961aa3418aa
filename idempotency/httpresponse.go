package idempotency

import (
	"encoding/binary"
	"errors"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// A stored HTTP response is encoded as
//
//	uvarint status, uvarint header-line count,
//	per line: uvarint len, name, uvarint len, value,
//	then the body up to the end.

// unrecorded are the headers never recorded, by canonical name:
// credentials (per the IETF draft), hop-by-hop headers (RFC 9110, 7.6.1)
// and those the replaying server sets itself. Headers named in Connection
// and those [MiddlewareConfig.ExcludeHeaders] names are left out too.
var unrecorded = []string{
	"Set-Cookie", "Authorization", "Proxy-Authorization",
	"Connection", "Proxy-Connection", "Keep-Alive", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
	"Content-Length", "Date", HeaderReplayed,
}

// encodeResponse encodes a response to record; h holds the headers to
// record, nothing else.
func encodeResponse(status int, h http.Header, body []byte) []byte {
	n := 0
	size := 2*binary.MaxVarintLen32 + len(body)
	for name, values := range h {
		for _, v := range values {
			n++
			size += 2*binary.MaxVarintLen32 + len(name) + len(v)
		}
	}
	out := make([]byte, 0, size)
	out = binary.AppendUvarint(out, uint64(status))
	out = binary.AppendUvarint(out, uint64(n))
	for name, values := range h {
		for _, v := range values {
			out = binary.AppendUvarint(out, uint64(len(name)))
			out = append(out, name...)
			out = binary.AppendUvarint(out, uint64(len(v)))
			out = append(out, v...)
		}
	}
	return append(out, body...)
}

var errBadResponse = errors.New("idempotency: malformed stored response")

// writeResponse replays a stored response to w. The body is written from
// the stored bytes without copying.
func writeResponse(w http.ResponseWriter, stored []byte) error {
	status, stored, ok := uvarint(stored)
	if !ok || status < 100 || status > 999 {
		return errBadResponse
	}
	lines, stored, ok := uvarint(stored)
	if !ok {
		return errBadResponse
	}
	// Check the whole record before writing any of it.
	rest := stored
	for range 2 * lines {
		if _, rest, ok = field(rest); !ok {
			return errBadResponse
		}
	}
	// Recorded headers (under canonical names) replace any of the same name
	// that outer middleware set again for this request, so none is doubled;
	// an outer header set under a non-canonical name is moved to its
	// canonical one first, so that it is replaced too.
	h := w.Header()
	for name, values := range h {
		if c := textproto.CanonicalMIMEHeaderKey(name); c != name {
			delete(h, name)
			h[c] = append(h[c], values...)
		}
	}
	// Names and values are substrings of one string, which ends with the
	// Content-Length, and the value slices share one array: two
	// allocations whatever the number of headers. The lines of one name are
	// consecutive (encodeResponse writes them so).
	n := int(lines)
	head := len(stored) - len(rest)
	var length [20]byte
	contentLength := strconv.AppendInt(length[:0], int64(len(rest)), 10)
	var sb strings.Builder
	sb.Grow(head + len(contentLength))
	sb.Write(stored[:head])
	sb.Write(contentLength)
	block := sb.String()
	values := make([]string, n+2)
	pos, run, prev := 0, 0, ""
	for i := range n {
		ns, ne := span(stored, pos)
		vs, ve := span(stored, ne)
		pos = ve
		name := block[ns:ne]
		values[i] = block[vs:ve]
		if i == 0 || name != prev {
			run, prev = i, name
		}
		h[name] = values[run : i+1 : i+1]
	}
	values[n] = "true"
	h[HeaderReplayed] = values[n : n+1 : n+1]
	values[n+1] = block[head:]
	h["Content-Length"] = values[n+1 : n+2 : n+2]
	w.WriteHeader(int(status))
	_, err := w.Write(rest)
	return err
}

// span returns where the field that starts at b[pos:] (a uvarint length,
// then the bytes) has its bytes. The field must have been checked.
func span(b []byte, pos int) (start, end int) {
	n, k := binary.Uvarint(b[pos:])
	return pos + k, pos + k + int(n)
}

func uvarint(b []byte) (uint64, []byte, bool) {
	v, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, nil, false
	}
	return v, b[n:], true
}

func field(b []byte) ([]byte, []byte, bool) {
	n, b, ok := uvarint(b)
	if !ok || n > uint64(len(b)) {
		return nil, nil, false
	}
	return b[:n], b[n:], true
}
