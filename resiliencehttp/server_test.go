package resiliencehttp_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/resiliencehttp"
	"github.com/magicmagnets/resilience/retry"
)

// step is what a scripted server does with one request.
type step func(w http.ResponseWriter, r *http.Request)

// scripted is a server that answers its nth request with steps[n], the last
// step repeating, and records what it received.
type scripted struct {
	srv   *httptest.Server
	steps []step
	conns atomic.Int64 // connections opened

	mu     sync.Mutex
	keys   []string // Idempotency-Key of each request
	bodies []string // body of each request
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	n := len(s.keys)
	s.keys = append(s.keys, r.Header.Get("Idempotency-Key"))
	s.bodies = append(s.bodies, string(body))
	s.mu.Unlock()
	s.steps[min(n, len(s.steps)-1)](w, r)
}

// serve starts a scripted server on loopback; it is closed when the test
// ends.
func serve(t *testing.T, steps ...step) *scripted {
	t.Helper()
	s := &scripted{steps: steps}
	s.srv = httptest.NewUnstartedServer(s)
	s.srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.srv.Start()
	t.Cleanup(s.srv.Close)
	return s
}

// serveHandler starts h on loopback and returns its URL; it is closed when
// the test ends.
func serveHandler(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

func (s *scripted) URL() string { return s.srv.URL }

// requests returns how many requests the server received.
func (s *scripted) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.keys)
}

func (s *scripted) receivedKeys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.keys...)
}

func (s *scripted) receivedBodies() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.bodies...)
}

// status answers with code and the given header pairs.
func status(code int, header ...string) step {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
		io.WriteString(w, http.StatusText(code))
	}
}

// ok answers 200 with body.
func ok(body string) step {
	return func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, body) }
}

// drop closes the connection without answering.
func drop(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
	}
}

// stall answers nothing until the client gives up on the request.
func stall(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

// resetMidBody sends the headers of a response with code and a 1000-byte
// body, 10 bytes of it, and resets the connection.
func resetMidBody(code int) step {
	return func(w http.ResponseWriter, _ *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 " + strconv.Itoa(code) + " " + http.StatusText(code) + "\r\nContent-Length: 1000\r\n\r\n0123456789")
		buf.Flush()
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetLinger(0) // close with RST
		}
	}
}

// newTransport returns a Transport over a fresh http.Transport whose idle
// connections are closed when the test ends.
func newTransport(t *testing.T, c resiliencehttp.Config) *resiliencehttp.Transport {
	t.Helper()
	if c.Base == nil {
		c.Base = &http.Transport{}
	}
	tr := resiliencehttp.New(c)
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// quickRetry retries up to attempts times without waiting.
func quickRetry(attempts int, o ...resilience.Observer) *retry.Policy {
	c := retry.Config{MaxAttempts: attempts, Backoff: backoff.Constant(0)}
	if len(o) > 0 {
		c.Observer = o[0]
	}
	return retry.New(c)
}

// get sends a GET through tr and returns the status and body.
func get(t *testing.T, tr http.RoundTripper, url string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

// assertHintWait asserts that a wait honoured a delay hint of want: the
// retry policy waits the hint plus a jitter of a tenth of it at most.
func assertHintWait(t *testing.T, want, got time.Duration) {
	t.Helper()
	assert.GreaterOrEqual(t, got, want, "the hint is honoured")
	assert.LessOrEqual(t, got, want+want/10, "with a little jitter on top")
}

// trackedBody is a request body that records whether it was closed.
type trackedBody struct {
	io.Reader
	mu     sync.Mutex
	closed bool
}

func (b *trackedBody) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return nil
}

func (b *trackedBody) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}
