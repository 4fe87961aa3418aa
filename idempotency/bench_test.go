package idempotency_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/magicmagnets/resilience/idempotency"
)

// Every claim is for a new key; once the store holds its default 100,000
// records, each claim also evicts the oldest completed one (steady state).
func BenchmarkMemoryStoreClaimCompleteNewKey(b *testing.B) {
	s := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	ctx := context.Background()
	result := []byte(`{"charge":"ch_1"}`)
	buf := []byte("key-")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		key := string(strconv.AppendInt(buf[:4], int64(i), 10))
		c, err := s.Claim(ctx, key, "fp", idempotency.NewToken(), time.Minute)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Complete(ctx, key, c.Lock, result, time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMemoryStoreReplay(b *testing.B) {
	s := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	ctx := context.Background()
	c, _ := s.Claim(ctx, "key", "fp", idempotency.NewToken(), time.Minute)
	_ = s.Complete(ctx, "key", c.Lock, []byte(`{"charge":"ch_1"}`), time.Hour)
	token := idempotency.NewToken() // a replay is the store's work, not the token's
	b.ReportAllocs()
	for b.Loop() {
		c, err := s.Claim(ctx, "key", "fp", token, time.Minute)
		if err != nil || !c.Replayed {
			b.Fatal(err)
		}
	}
}

func BenchmarkMemoryStoreReplayParallel(b *testing.B) {
	s := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	ctx := context.Background()
	c, _ := s.Claim(ctx, "key", "fp", idempotency.NewToken(), time.Minute)
	_ = s.Complete(ctx, "key", c.Lock, []byte(`{"charge":"ch_1"}`), time.Hour)
	token := idempotency.NewToken()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if c, err := s.Claim(ctx, "key", "fp", token, time.Minute); err != nil || !c.Replayed {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkDoReplay(b *testing.B) {
	s := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	ctx := context.Background()
	op := func(context.Context) (int, error) { return 42, nil }
	_, _, _ = idempotency.Do(ctx, s, "key", op, idempotency.Options{})
	b.ReportAllocs()
	for b.Loop() {
		if _, replayed, err := idempotency.Do(ctx, s, "key", op, idempotency.Options{}); err != nil || !replayed {
			b.Fatal(err)
		}
	}
}

// discardWriter is a ResponseWriter that keeps nothing but its header map.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// resettableBody is a request body a benchmark can rewind without
// allocating.
type resettableBody struct{ *bytes.Reader }

func (resettableBody) Close() error { return nil }

func BenchmarkMiddlewareReplay(b *testing.B) {
	h := idempotency.Middleware(idempotency.NewMemoryStore(idempotency.MemoryConfig{}), idempotency.MiddlewareConfig{})(&chargeHandler{})
	h.ServeHTTP(httptest.NewRecorder(), request("POST", "k", `{"amount":50}`))
	benchmarkHandler(b, h)
	if w := serve(h, request("POST", "k", `{"amount":50}`)); w.Header().Get("Idempotent-Replayed") != "true" {
		b.Fatal("not replayed")
	}
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

// The replay of a 1 KiB response, and below the same response written by
// the handler itself without the middleware: the target is at most twice
// the bare handler's time.
func BenchmarkMiddlewareReplay1KiB(b *testing.B) {
	h := idempotency.Middleware(idempotency.NewMemoryStore(idempotency.MemoryConfig{}), idempotency.MiddlewareConfig{})(kibHandler{})
	h.ServeHTTP(httptest.NewRecorder(), request("POST", "k", `{"amount":50}`))
	benchmarkHandler(b, h)
	if w := serve(h, request("POST", "k", `{"amount":50}`)); w.Header().Get("Idempotent-Replayed") != "true" || w.Body.Len() != len(kibBody) {
		b.Fatal("not replayed")
	}
}

func BenchmarkBareHandler1KiB(b *testing.B) { benchmarkHandler(b, kibHandler{}) }

// The same replay for a request whose body is a kilobyte.
func BenchmarkMiddlewareReplayKiBBody(b *testing.B) {
	data := `{"note":"` + strings.Repeat("x", 1010) + `"}`
	h := idempotency.Middleware(idempotency.NewMemoryStore(idempotency.MemoryConfig{}), idempotency.MiddlewareConfig{})(kibHandler{})
	h.ServeHTTP(httptest.NewRecorder(), request("POST", "k", data))
	benchmarkHandlerWith(b, h, []byte(data))
	if w := serve(h, request("POST", "k", data)); w.Header().Get("Idempotent-Replayed") != "true" {
		b.Fatal("not replayed")
	}
}

// benchmarkHandler serves the same keyed POST to h again and again, each
// time with a fresh response header map, as a server gives each request.
func benchmarkHandler(b *testing.B, h http.Handler) {
	benchmarkHandlerWith(b, h, []byte(`{"amount":50}`))
}

func benchmarkHandlerWith(b *testing.B, h http.Handler, data []byte) {
	r := request("POST", "k", "")
	r.ContentLength = int64(len(data))
	body := resettableBody{bytes.NewReader(data)}
	w := &discardWriter{}
	b.ReportAllocs()
	for b.Loop() {
		body.Reset(data)
		r.Body = body
		w.h = make(http.Header, 4)
		h.ServeHTTP(w, r)
	}
}

func BenchmarkMemoryStoreBytesPerKey(b *testing.B) {
	const keys = 1_000_000
	ctx := context.Background()
	result := []byte(`{"charge":"ch_1"}`)
	fp := string(make([]byte, 32)) // the middleware's SHA-256 fingerprint size
	for b.Loop() {
		names := make([]string, keys)
		for i := range names {
			names[i] = idempotency.NewKey()
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxEntries: keys})
		for _, key := range names {
			c, err := s.Claim(ctx, key, fp, idempotency.NewToken(), time.Minute)
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Complete(ctx, key, c.Lock, result, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/keys, "bytes/key")
		runtime.KeepAlive(s)
	}
}
