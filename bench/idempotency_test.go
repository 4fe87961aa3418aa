package bench

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/magicmagnets/resilience/idempotency"
)

// BenchmarkIdempotencyReplay: the memory store answers a claim on a key
// whose operation has completed with the recorded result. No peer has an
// equivalent; the figure is here to check it against its target.
func BenchmarkIdempotencyReplay(b *testing.B) {
	s := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	ctx := context.Background()
	c, err := s.Claim(ctx, "key", "fp", idempotency.NewToken(), time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Complete(ctx, "key", c.Lock, []byte(`{"charge":"ch_1"}`), time.Hour); err != nil {
		b.Fatal(err)
	}
	token := idempotency.NewToken() // the store's work, not the token's
	b.Run("lib=resilience", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if c, err := s.Claim(ctx, "key", "fp", token, time.Minute); err != nil || !c.Replayed {
				b.Fatalf("not replayed: %v", err)
			}
		}
	})
}

// kibHandler answers as a JSON API would: 201, two headers and a 1 KiB
// body.
type kibHandler struct{}

var kibBody = bytes.Repeat([]byte("0123456789abcdef"), 64)

func (kibHandler) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Charge", "ch_1")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(kibBody)
}

// discardWriter is a ResponseWriter that keeps only its header map, which
// each request gets fresh, as a server gives it.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// rewindBody is a request body that can be read again without allocating.
type rewindBody struct{ *bytes.Reader }

func (rewindBody) Close() error { return nil }

// replayBlock is how many requests BenchmarkMiddlewareReplayPaired times as
// one block.
const replayBlock = 64

// BenchmarkMiddlewareReplayPaired: a keyed POST whose 1 KiB response the
// idempotency middleware (over a memory store) replays, and the same
// request served by the handler that wrote that response, without the
// middleware, in blocks of replayBlock requests taken in turn (see paired).
// Each request gets a fresh response header map. It reports each one's
// median time per request and the replay as a multiple of the bare
// handler's ("x-bare"; DESIGN.md's target: at most 2).
func BenchmarkMiddlewareReplayPaired(b *testing.B) {
	mw := idempotency.Middleware(idempotency.NewMemoryStore(idempotency.MemoryConfig{}), idempotency.MiddlewareConfig{})(kibHandler{})
	data := []byte(`{"amount":50}`)
	newRequest := func() *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/charges", bytes.NewReader(data))
		r.Header.Set("Idempotency-Key", "k")
		r.Header.Set("Content-Type", "application/json")
		return r
	}
	first := httptest.NewRecorder()
	mw.ServeHTTP(first, newRequest())
	again := httptest.NewRecorder()
	mw.ServeHTTP(again, newRequest())
	if again.Header().Get("Idempotent-Replayed") != "true" || !bytes.Equal(again.Body.Bytes(), kibBody) {
		b.Fatalf("not replayed: %d %q", again.Code, strings.TrimSpace(again.Body.String()))
	}
	serve := func(h http.Handler) func() {
		r, body, w := newRequest(), rewindBody{bytes.NewReader(data)}, &discardWriter{}
		return func() {
			body.Reset(data)
			r.Body = body
			w.h = make(http.Header, 4)
			h.ServeHTTP(w, r)
		}
	}
	med := paired(b, replayBlock,
		pairedRun{"replay", serve(mw)},
		pairedRun{"bare", serve(kibHandler{})})
	b.ReportMetric(med["replay"]/med["bare"], "x-bare")
}
