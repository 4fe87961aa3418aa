package idempotency

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// recorder passes a handler's response through to the client and keeps a
// copy of it, up to limit body bytes, for the store.
type recorder struct {
	http.ResponseWriter
	limit    int
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
		if len(rec.body)+len(p) > rec.limit {
			rec.overflow, rec.body = true, nil
		} else {
			rec.body = append(rec.body, p...)
		}
	}
	return rec.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer (Flush,
// deadlines).
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// problem writes an RFC 9457 problem details response.
func problem(w http.ResponseWriter, status int, title, detail string) {
	body, _ := json.Marshal(struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
		Detail string `json:"detail,omitempty"`
	}{"about:blank", title, status, detail})
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func newBodyReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
