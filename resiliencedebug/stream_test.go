package resiliencedebug_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/resiliencedebug"
)

// streamWriter is a ResponseWriter for the event stream that keeps what is
// written, or, when stuck, blocks every write until its write deadline as
// a connection whose client reads nothing would.
type streamWriter struct {
	header http.Header
	stuck  bool

	mu       sync.Mutex
	deadline time.Time
	writes   []string
	flushes  int
}

func newStreamWriter(stuck bool) *streamWriter {
	return &streamWriter{header: http.Header{}, stuck: stuck}
}

func (w *streamWriter) Header() http.Header { return w.header }
func (w *streamWriter) WriteHeader(int)     {}

func (w *streamWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	deadline := w.deadline
	w.mu.Unlock()
	if w.stuck {
		if deadline.IsZero() {
			select {} // a write without a deadline on a stuck client never ends
		}
		time.Sleep(time.Until(deadline))
		return 0, os.ErrDeadlineExceeded
	}
	w.mu.Lock()
	w.writes = append(w.writes, string(p))
	w.mu.Unlock()
	return len(p), nil
}

func (w *streamWriter) FlushError() error {
	w.mu.Lock()
	w.flushes++
	w.mu.Unlock()
	return nil
}

func (w *streamWriter) SetWriteDeadline(t time.Time) error {
	w.mu.Lock()
	w.deadline = t
	w.mu.Unlock()
	return nil
}

func (w *streamWriter) messages() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.writes...)
}

// serveStream runs the event stream of d for w in a goroutine and returns
// a cancel for the request's context and a channel closed when the
// handler returns.
func serveStream(d http.Handler, w http.ResponseWriter) (context.CancelFunc, <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	r := httptest.NewRequest(http.MethodGet, prefix+"events", nil).WithContext(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.ServeHTTP(w, r)
	}()
	return cancel, done
}

func TestStreamSendsTheSnapshotEverySecondUntilTheClientLeaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := resiliencedebug.New(resiliencedebug.Config{})
		w := newStreamWriter(false)
		cancel, done := serveStream(d, w)
		synctest.Wait()
		require.Len(t, w.messages(), 1, "a message at once")

		call(d, "retry", "api", time.Millisecond, nil)
		time.Sleep(time.Second)
		synctest.Wait()
		call(d, "retry", "api", time.Millisecond, nil)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		msgs := w.messages()
		require.Len(t, msgs, 4, "then one a second")
		assert.Equal(t, "text/event-stream", w.header.Get("Content-Type"))
		var calls []uint64
		for _, m := range msgs {
			require.True(t, strings.HasPrefix(m, "data: "), m)
			require.True(t, strings.HasSuffix(m, "}\n\n"), "one line, then a blank one: %q", m)
			var snap resiliencedebug.Snapshot
			require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(m, "data: ")), &snap))
			var n uint64
			for _, tl := range snap.Policies {
				n += tl.Calls
			}
			calls = append(calls, n)
		}
		assert.Equal(t, []uint64{0, 1, 2, 2}, calls)
		w.mu.Lock()
		assert.Equal(t, 4, w.flushes, "each message is flushed")
		w.mu.Unlock()

		cancel()
		synctest.Wait()
		select {
		case <-done:
		default:
			t.Fatal("the handler still runs after the client left")
		}
		w.mu.Lock()
		assert.True(t, w.deadline.IsZero(), "no write deadline is left on the connection")
		w.mu.Unlock()
	})
}

func TestStuckStreamClientIsDroppedWithoutBlockingObservers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		d := resiliencedebug.New(resiliencedebug.Config{})
		cancel, done := serveStream(d, newStreamWriter(true))
		defer cancel()
		synctest.Wait() // the handler is stuck in its first write

		start := time.Now()
		for range 1000 {
			call(d, "retry", "api", time.Millisecond, nil)
		}
		assert.Zero(t, time.Since(start), "observing never waits for the stream")

		time.Sleep(resiliencedebug.StreamWriteTimeout - time.Millisecond)
		synctest.Wait()
		select {
		case <-done:
			t.Fatal("dropped before the write timeout")
		default:
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		select {
		case <-done:
		default:
			t.Fatal("a client that reads nothing is not dropped")
		}
	})
}

// Over a real connection: the stream's first message arrives, and when
// the client goes away the handler ends (the server's Close waits for it,
// and TestMain's goleak sees no goroutine left).
func TestStreamOverARealConnection(t *testing.T) {
	d := resiliencedebug.New(resiliencedebug.Config{})
	call(d, "breaker", "db", time.Millisecond, nil)
	mux := http.NewServeMux()
	mux.Handle(prefix, d)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+prefix+"events", nil)
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	require.NoError(t, err)
	assert.Contains(t, line, `"name":"db"`)
	cancel()
	srv.CloseClientConnections()
}
