package resiliencehttp

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/hedge"
	"github.com/magicmagnets/resilience/internal/emit"
	"github.com/magicmagnets/resilience/retry"
)

// Transport is an http.RoundTripper that sends each request under a
// resilience policy; see the package documentation for what it does. Create
// one with [New]: the zero value is not usable. It is safe for concurrent
// use, and like an http.Transport it should be reused, not created per
// request, so that per-host breakers and pooled connections are shared.
type Transport struct {
	base       http.RoundTripper
	shared     resilience.Policy // nil when hosts is set
	hosts      *hosts
	retryResp  func(*http.Response) bool
	errOnEnd   bool
	drainLimit int64
	bufferBody int64
	em         emit.Emitter
}

// New returns a Transport. It starts no goroutine. It panics with a
// "resiliencehttp:" message if both Policy and PerHost are set, or if
// MaxHosts, DrainLimit or BufferBody is negative.
func New(c Config) *Transport {
	if err := c.Validate(); err != nil {
		panic(err.Error())
	}
	t := &Transport{
		base:       c.Base,
		shared:     c.Policy,
		retryResp:  c.RetryResponse,
		errOnEnd:   c.ErrorOnExhausted,
		drainLimit: c.DrainLimit,
		bufferBody: c.BufferBody,
		em:         emit.Emitter{Policy: "resiliencehttp", Name: c.Name, Observer: c.Observer},
	}
	if t.base == nil {
		t.base = http.DefaultTransport
	}
	if t.retryResp == nil {
		t.retryResp = RetryableStatus
	}
	if t.drainLimit == 0 {
		t.drainLimit = defaultDrainLimit
	}
	switch {
	case c.PerHost != nil:
		t.hosts = newHosts(c.PerHost, cmp.Or(c.MaxHosts, defaultMaxHosts))
	case t.shared == nil:
		t.shared = retry.New(retry.Config{})
	}
	return t
}

// Validate reports what [New] would panic on in c: both Policy and PerHost
// set, or a negative MaxHosts, DrainLimit or BufferBody. It returns nil for
// a usable configuration.
func (c Config) Validate() error {
	switch {
	case c.Policy != nil && c.PerHost != nil:
		return errors.New("resiliencehttp: both Policy and PerHost are set")
	case c.MaxHosts < 0:
		return fmt.Errorf("resiliencehttp: negative MaxHosts %d", c.MaxHosts)
	case c.DrainLimit < 0:
		return fmt.Errorf("resiliencehttp: negative DrainLimit %d", c.DrainLimit)
	case c.BufferBody < 0:
		return fmt.Errorf("resiliencehttp: negative BufferBody %d", c.BufferBody)
	}
	return nil
}

// RoundTrip sends req under the policy of its host and returns the response
// of the attempt the policy accepted, or, when the policy gave up on a
// response with a retryable status, that last response (an error with
// Config.ErrorOnExhausted). Otherwise it returns the policy's error, which
// keeps the last attempt's error reachable with errors.Is and errors.As.
//
// A key in req's context (idempotency.WithKey) that an RFC 8941 string
// cannot carry (longer than idempotency.MaxKeyLen bytes, or with a byte
// outside printable ASCII) is refused before anything is sent or the
// policy runs: the error matches idempotency.ErrInvalidKey and is marked
// resilience.Permanent. Keys from idempotency.NewKey and
// idempotency.DeriveKey always fit.
//
// The response's body is not bound to any attempt's context: it stays
// readable until it is read to the end or closed, or the request's context
// ends. As for every RoundTripper, the caller must close it.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req == nil || req.URL == nil {
		if req != nil && req.Body != nil {
			req.Body.Close()
		}
		return nil, errors.New("resiliencehttp: nil request or URL")
	}
	sent, err := withKey(req)
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	req = sent
	p := t.shared
	if p == nil {
		host := strings.ToLower(req.URL.Host)
		if p = t.hosts.policy(host); p == nil {
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, fmt.Errorf("resiliencehttp: PerHost(%q): %w", host, resilience.ErrNilPolicy)
		}
	}
	start := t.em.Start()
	c := newCall(t, req)
	ctx := c.ctx
	if !hedgeable(req) {
		ctx = hedge.WithoutHedges(ctx) // never sent twice at once
	}
	resp, err := c.finish(p.Do(ctx, c.attempt))
	t.em.Call(start, err)
	return resp, err
}

// CloseIdleConnections closes the idle connections of the base transport,
// if it has such a method (http.Transport does).
func (t *Transport) CloseIdleConnections() {
	if ci, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}

func (t *Transport) emit(kind resilience.Kind, attempt int, err error) {
	t.em.Emit(resilience.Event{Kind: kind, Attempt: attempt, Err: err})
}
