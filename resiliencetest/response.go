package resiliencetest

import (
	"bytes"
	"fmt"
	"maps"
	"net/http"
	"strconv"
)

// bufferedResponse is an http.ResponseWriter that keeps the whole response
// in memory, so a fault can alter it or withhold it after the handler ran.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func newBufferedResponse() *bufferedResponse {
	return &bufferedResponse{header: make(http.Header)}
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

func (b *bufferedResponse) code() int {
	if b.status == 0 {
		return http.StatusOK
	}
	return b.status
}

// writeTo sends the response to w with the given body and, if not empty,
// Content-Digest.
func (b *bufferedResponse) writeTo(w http.ResponseWriter, body []byte, digest string) {
	b.writeHead(w, len(body), digest)
	_, _ = w.Write(body)
}

// writeHead writes the status and headers of b to w, announcing a body of
// length bytes.
func (b *bufferedResponse) writeHead(w http.ResponseWriter, length int, digest string) {
	b.headerFor(w.Header(), length, digest)
	w.WriteHeader(b.code())
}

// headerFor copies b's header into h, with the given Content-Length and,
// if not empty, Content-Digest.
func (b *bufferedResponse) headerFor(h http.Header, length int, digest string) {
	maps.Copy(h, b.header)
	h.Del("Transfer-Encoding")
	h.Set("Content-Length", strconv.Itoa(length))
	if digest != "" {
		h.Set(digestHeader, digest)
	}
}

// closeConn closes the client's connection without a response. Where the
// connection cannot be hijacked (HTTP/2), it aborts the response instead.
func closeConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// resetConn sends the status line, the headers announcing the whole body
// and fewer than all of its bytes (at most n), then closes the connection.
func resetConn(w http.ResponseWriter, b *bufferedResponse, digest string, n int) {
	body := b.body.Bytes()
	announced := max(len(body), 1)
	sent := body[:min(n, announced-1)]

	conn, bufw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		b.writeHead(w, announced, digest)
		_, _ = w.Write(sent)
		_ = http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	}
	defer conn.Close()
	h := make(http.Header)
	b.headerFor(h, announced, digest)
	fmt.Fprintf(bufw, "HTTP/1.1 %d %s\r\n", b.code(), http.StatusText(b.code()))
	_ = h.Write(bufw)
	_, _ = bufw.WriteString("\r\n")
	_, _ = bufw.Write(sent)
	_ = bufw.Flush()
}
