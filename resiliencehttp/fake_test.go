package resiliencehttp_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
)

// fakeBase is an in-memory base transport, usable inside a synctest bubble.
// Its nth request (from 1) is answered by respond.
type fakeBase struct {
	respond func(n int, req *http.Request) (*http.Response, error)

	mu     sync.Mutex
	reqs   []*http.Request
	bodies []string
}

func (f *fakeBase) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.bodies = append(f.bodies, string(body))
	n := len(f.reqs)
	f.mu.Unlock()
	return f.respond(n, req)
}

func (f *fakeBase) requests() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*http.Request(nil), f.reqs...)
}

// always answers every request with code.
func always(code int, header ...string) func(int, *http.Request) (*http.Response, error) {
	return func(_ int, req *http.Request) (*http.Response, error) {
		return reply(req, code, http.StatusText(code), header...), nil
	}
}

// reply builds a response whose body, like net/http's, fails once the
// request's context has ended.
func reply(req *http.Request, code int, body string, header ...string) *http.Response {
	h := make(http.Header)
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	return &http.Response{
		StatusCode:    code,
		Status:        fmt.Sprintf("%d %s", code, http.StatusText(code)),
		Header:        h,
		Body:          &ctxBody{ctx: req.Context(), r: strings.NewReader(body)},
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

type ctxBody struct {
	ctx context.Context
	r   io.Reader
}

func (b *ctxBody) Read(p []byte) (int, error) {
	if err := b.ctx.Err(); err != nil {
		return 0, err
	}
	return b.r.Read(p)
}

func (b *ctxBody) Close() error { return nil }

// send sends req through tr and returns the response with its body read.
func send(tr http.RoundTripper, req *http.Request) (*http.Response, string, error) {
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, string(body), err
}
