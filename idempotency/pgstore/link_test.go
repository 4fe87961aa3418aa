package pgstore_test

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// silencer is a TCP proxy to the database whose connections can be made
// silent one way: a silent connection still forwards every message to the
// server, which runs what it receives, but throws the server's replies
// away, as a link that went quiet after the request left.
type silencer struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup
	all    atomic.Bool // every connection, new ones too, is silent

	mu    sync.Mutex
	links []*link
}

type link struct {
	client, server net.Conn
	silent         atomic.Bool
}

func startSilencer(t *testing.T, target string) *silencer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &silencer{ln: ln, target: target}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

func (p *silencer) addr() string { return p.ln.Addr().String() }

// silenceExisting makes the connections open now silent; later ones talk.
func (p *silencer) silenceExisting() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.links {
		l.silent.Store(true)
	}
}

func (p *silencer) accept() {
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
		l := &link{client: client, server: server}
		p.mu.Lock()
		p.links = append(p.links, l)
		p.mu.Unlock()
		p.wg.Go(func() { p.pipe(l, server, client, false) })
		p.wg.Go(func() { p.pipe(l, client, server, true) })
	}
}

// pipe copies src to dst until either fails, dropping the server's replies
// while l or every link is silent.
func (p *silencer) pipe(l *link, dst, src net.Conn, replies bool) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !(replies && (l.silent.Load() || p.all.Load())) {
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *silencer) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	for _, l := range p.links {
		_ = l.client.Close()
		_ = l.server.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
