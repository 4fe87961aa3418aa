package resiliencehttp

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"sync/atomic"
)

// drain reads the body of resp, whose status is retryable, up to limit
// bytes. When the whole body fit, it closes the original body, which hands
// the connection back to the pool, puts the bytes read in its place and
// returns true. Otherwise the body reads the bytes already read and then
// the rest of the original, and closing it closes the original.
func drain(resp *http.Response, limit int64) bool {
	n := limit
	if n < math.MaxInt64 {
		n++ // one byte more tells a body of exactly limit bytes from a longer one
	}
	var buf bytes.Buffer
	_, err := buf.ReadFrom(io.LimitReader(resp.Body, n))
	if err == nil && int64(buf.Len()) <= limit {
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(buf.Bytes()))
		return true
	}
	resp.Body = &prefixedBody{Reader: io.MultiReader(bytes.NewReader(buf.Bytes()), resp.Body), Closer: resp.Body}
	return false
}

// buffer reads the body of resp, which the attempt is about to accept, up
// to limit bytes. When the whole body fit, it closes the original body
// (which hands the connection back to the pool), puts the bytes read in its
// place and returns true. A body announced or found longer than limit is
// left to stream as drain leaves one, and buffer returns false. A failed
// read closes the body and returns the error: the attempt failed.
// Bodies that are not read (none, or an upgraded connection's) are left as
// they are.
func buffer(resp *http.Response, limit int64) (bool, error) {
	if resp.Body == nil || resp.Body == http.NoBody || resp.StatusCode == http.StatusSwitchingProtocols {
		return false, nil
	}
	if resp.ContentLength > limit {
		return false, nil
	}
	n := limit
	if n < math.MaxInt64 {
		n++
	}
	var buf bytes.Buffer
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength))
	}
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, n)); err != nil {
		resp.Body.Close()
		return false, err
	}
	if int64(buf.Len()) <= limit {
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(buf.Bytes()))
		return true, nil
	}
	resp.Body = &prefixedBody{Reader: io.MultiReader(bytes.NewReader(buf.Bytes()), resp.Body), Closer: resp.Body}
	return false, nil
}

type prefixedBody struct {
	io.Reader
	io.Closer
}

// liveBody is the body of a returned response. It ends the context the
// response was fetched under, once: when the body is closed or a read
// fails, io.EOF included. By then net/http has handed the connection back
// to the pool, so ending the context does not close it. stop, when set,
// unregisters what would have ended that context with the request's own.
type liveBody struct {
	rc       io.ReadCloser
	released atomic.Bool
	cancel   context.CancelFunc
	stop     func() bool
}

func (b *liveBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil {
		b.release()
	}
	return n, err
}

func (b *liveBody) Close() error {
	err := b.rc.Close()
	b.release()
	return err
}

// release ends the context, the first time only. A Close racing a failed
// Read returns without waiting for the other to finish: either way the
// context's end is under way, and nothing of the body is used after it.
func (b *liveBody) release() {
	if !b.released.CompareAndSwap(false, true) {
		return
	}
	if b.stop != nil {
		b.stop()
	}
	b.cancel()
}

// liveConn is the body of a 101 Switching Protocols response, which
// net/http makes writable: the client reads and writes the upgraded
// connection through it.
type liveConn struct {
	*liveBody
	w io.Writer
}

func (b liveConn) Write(p []byte) (int, error) { return b.w.Write(p) }

// bindTo makes lb the body wrapping body, and returns it, still writable
// if body was.
func bindTo(lb *liveBody, body io.ReadCloser, cancel context.CancelFunc, stop func() bool) io.ReadCloser {
	lb.rc, lb.cancel, lb.stop = body, cancel, stop
	if w, ok := body.(io.Writer); ok {
		return liveConn{lb, w}
	}
	return lb
}
