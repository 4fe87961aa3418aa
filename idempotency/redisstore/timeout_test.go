package redisstore_test

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/redisstore"
)

// replyDropper is a TCP proxy to Redis that, while dropping, forwards every
// command but throws the replies away: the server applies what it receives
// and the client hears nothing, as over a link that went silent one way.
type replyDropper struct {
	ln       net.Listener
	target   string
	dropping atomic.Bool
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    []net.Conn
}

func startReplyDropper(t *testing.T, target string) *replyDropper {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &replyDropper{ln: ln, target: target}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

func (p *replyDropper) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, client, server)
		p.mu.Unlock()
		p.wg.Go(func() { p.pipe(server, client, false) })
		p.wg.Go(func() { p.pipe(client, server, true) })
	}
}

// pipe copies src to dst until either fails; replies are dropped while p
// is dropping.
func (p *replyDropper) pipe(dst, src net.Conn, replies bool) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !(replies && p.dropping.Load()) {
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *replyDropper) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// clientVia returns a client of the test server through p, closed at
// cleanup.
func clientVia(t *testing.T, p *replyDropper, contextTimeout bool, readTimeout time.Duration) *redis.Client {
	opts, err := redis.ParseURL(redisURL(t))
	require.NoError(t, err)
	opts.Addr = p.ln.Addr().String()
	opts.ContextTimeoutEnabled = contextTimeout
	opts.ReadTimeout = readTimeout
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	return client
}

func TestTimeoutBoundsCallsWhoseRepliesNeverComeAndReSentCallsRecover(t *testing.T) {
	opts, err := redis.ParseURL(redisURL(t))
	require.NoError(t, err)
	p := startReplyDropper(t, opts.Addr)
	const timeout = 200 * time.Millisecond
	s := redisstore.New(clientVia(t, p, true, 10*time.Second), redisstore.Config{
		Prefix:  "timeout:" + idempotency.NewKey() + ":",
		Timeout: timeout,
	})
	ctx := t.Context()
	warm, err := s.Claim(ctx, "warm", "fp", idempotency.NewToken(), time.Minute) // loads the scripts
	require.NoError(t, err)
	require.NoError(t, s.Complete(ctx, "warm", warm.Lock, nil, time.Minute))

	bounded := func(what string, call func() error) {
		t.Helper()
		p.dropping.Store(true)
		defer p.dropping.Store(false)
		start := time.Now()
		err := call()
		elapsed := time.Since(start)
		assert.ErrorContains(t, err, "redisstore: "+what)
		assert.GreaterOrEqual(t, elapsed, timeout, "%s returned before its timeout: %v", what, err)
		assert.Less(t, elapsed, 5*timeout, "%s waited past its timeout (the read timeout is 10s)", what)
	}

	// The claim reaches Redis, its reply does not reach us: the claimer
	// does not know it owns the key, claims again with its token, and owns
	// it at once.
	token := idempotency.NewToken()
	bounded("claim", func() error {
		_, err := s.Claim(ctx, "k", "fp", token, time.Minute)
		return err
	})
	c, err := s.Claim(ctx, "k", "fp", token, time.Minute)
	require.NoError(t, err, "the re-sent claim acquires")
	assert.Equal(t, idempotency.Lock{Token: token, Fence: 1}, c.Lock)

	bounded("extend", func() error { return s.Extend(ctx, "k", c.Lock, time.Minute) })
	require.NoError(t, s.Extend(ctx, "k", c.Lock, time.Minute))

	// The Complete is applied but unheard; its re-send succeeds.
	bounded("complete", func() error { return s.Complete(ctx, "k", c.Lock, []byte("r"), time.Minute) })
	require.NoError(t, s.Complete(ctx, "k", c.Lock, []byte("r"), time.Minute), "the re-sent complete")
	replay, err := s.Claim(ctx, "k", "fp", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	assert.Equal(t, []byte("r"), replay.Result)

	r, err := s.Claim(ctx, "released", "fp", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	bounded("release", func() error { return s.Release(ctx, "released", r.Lock, time.Minute) })
	require.NoError(t, s.Release(ctx, "released", r.Lock, time.Minute), "the re-sent release")
}

// The fact the package doc reports about go-redis v9: without
// ContextTimeoutEnabled, a context's deadline does not reach the socket, so
// a call whose reply never comes waits for the client's ReadTimeout however
// short the store's Timeout.
func TestWithoutContextTimeoutEnabledACallWaitsForTheReadTimeout(t *testing.T) {
	opts, err := redis.ParseURL(redisURL(t))
	require.NoError(t, err)
	p := startReplyDropper(t, opts.Addr)
	const readTimeout = 600 * time.Millisecond
	s := redisstore.New(clientVia(t, p, false, readTimeout), redisstore.Config{
		Prefix:  "timeout:" + idempotency.NewKey() + ":",
		Timeout: 50 * time.Millisecond,
	})
	_, err = s.Claim(t.Context(), "warm", "fp", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)

	p.dropping.Store(true)
	start := time.Now()
	_, err = s.Claim(t.Context(), "k", "fp", idempotency.NewToken(), time.Minute)
	assert.Error(t, err)
	assert.GreaterOrEqual(t, time.Since(start), readTimeout)
}

// A call runs until the earlier of the caller's deadline and the store's
// Timeout, whichever of the two comes first.
func TestACallEndsAtTheCallersDeadlineOrTheTimeoutWhicheverIsFirst(t *testing.T) {
	opts, err := redis.ParseURL(redisURL(t))
	require.NoError(t, err)
	p := startReplyDropper(t, opts.Addr)
	const short, long = 150 * time.Millisecond, 10 * time.Second
	client := clientVia(t, p, true, 30*time.Second)
	prefix := "deadline:" + idempotency.NewKey() + ":"
	shortTimeout := redisstore.New(client, redisstore.Config{Prefix: prefix, Timeout: short})
	longTimeout := redisstore.New(client, redisstore.Config{Prefix: prefix, Timeout: long})
	_, err = shortTimeout.Claim(t.Context(), "warm", "fp", idempotency.NewToken(), time.Minute) // loads the script
	require.NoError(t, err)

	p.dropping.Store(true)
	defer p.dropping.Store(false)
	for _, c := range []struct {
		name     string
		s        *redisstore.Store
		deadline time.Duration
	}{
		{"the caller's deadline first", longTimeout, short},
		{"the store's Timeout first", shortTimeout, long},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), c.deadline)
		start := time.Now()
		_, err := c.s.Claim(ctx, "k", "fp", idempotency.NewToken(), time.Minute)
		elapsed := time.Since(start)
		cancel()
		assert.ErrorIs(t, err, context.DeadlineExceeded, c.name)
		assert.GreaterOrEqual(t, elapsed, short, c.name)
		assert.Less(t, elapsed, 5*short, c.name)
	}
}
