package idempotency

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
)

// recorder passes a handler's response through to the client and keeps a
// copy of it, up to limit body bytes, for the store.
type recorder struct {
	http.ResponseWriter
	limit    int
	outer    http.Header // headers set before the handler ran (outer middleware)
	status   int
	header   http.Header // snapshot taken when the header was written
	body     []byte
	overflow bool
}

func (rec *recorder) WriteHeader(status int) {
	if rec.status == 0 && status >= 200 {
		rec.status = status
		rec.header = rec.ResponseWriter.Header().Clone()
	}
	rec.ResponseWriter.WriteHeader(status)
}

func (rec *recorder) Write(p []byte) (int, error) {
	if rec.status == 0 {
		rec.WriteHeader(http.StatusOK)
	}
	if !rec.overflow {
		if len(p) > rec.limit-len(rec.body) {
			rec.overflow, rec.body = true, nil
		} else {
			rec.body = append(rec.body, p...)
		}
	}
	return rec.ResponseWriter.Write(p)
}

// FlushError sends what was written so far; before any WriteHeader that
// means an implicit 200, which is what the client sees and so what is
// recorded. http.ResponseController's Flush calls it.
func (rec *recorder) FlushError() error {
	if rec.status == 0 {
		rec.WriteHeader(http.StatusOK)
	}
	return http.NewResponseController(rec.ResponseWriter).Flush()
}

// Flush implements http.Flusher for handlers that assert it.
func (rec *recorder) Flush() { _ = rec.FlushError() }

// Unwrap lets http.ResponseController reach the underlying writer
// (deadlines, hijacking).
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// finish settles the status of a handler that returned without writing:
// net/http sends 200 with the headers set by then.
func (rec *recorder) finish() {
	if rec.status == 0 {
		rec.status = http.StatusOK
		rec.header = rec.ResponseWriter.Header().Clone()
	}
}

// recorded returns the headers to record, under their canonical names:
// those the handler set or changed (not those outer middleware had set
// before it ran, with the same values), without the names in exclude
// (canonical), those the Connection header lists, and trailers.
func (rec *recorder) recorded(exclude map[string]bool) http.Header {
	var listed []string // hop-by-hop headers named in Connection
	for name, values := range rec.header {
		if textproto.CanonicalMIMEHeaderKey(name) != "Connection" {
			continue
		}
		for _, v := range values {
			for token := range strings.SplitSeq(v, ",") {
				listed = append(listed, textproto.CanonicalMIMEHeaderKey(strings.TrimSpace(token)))
			}
		}
	}
	h := make(http.Header, len(rec.header))
	for name, values := range rec.header {
		if outer, ok := rec.outer[name]; ok && slices.Equal(outer, values) {
			continue
		}
		c := textproto.CanonicalMIMEHeaderKey(name)
		if exclude[c] || slices.Contains(listed, c) || strings.HasPrefix(name, http.TrailerPrefix) {
			continue
		}
		if prev, ok := h[c]; ok { // the handler used two spellings of a name
			values = append(slices.Clip(prev), values...)
		}
		h[c] = values
	}
	return h
}

// problem writes an RFC 9457 problem details response.
func problem(w http.ResponseWriter, status int, title, detail string) {
	body, ph := problemBody(status, title, detail)
	h := w.Header()
	for name, values := range ph {
		h[name] = values
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// problemBody returns an RFC 9457 problem details body and its headers.
func problemBody(status int, title, detail string) ([]byte, http.Header) {
	body, _ := json.Marshal(struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
		Detail string `json:"detail,omitempty"`
	}{"about:blank", title, status, detail})
	return body, http.Header{"Content-Type": {"application/problem+json"}}
}

// bodyReader is the request body the handler reads: the bytes the
// middleware read, in one allocation with its Close.
type bodyReader struct{ bytes.Reader }

func newBodyReader(b []byte) *bodyReader {
	r := &bodyReader{}
	r.Reset(b)
	return r
}

// Close does nothing: the bytes are in memory.
func (*bodyReader) Close() error { return nil }
