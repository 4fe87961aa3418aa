package idempotency_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/resiliencetest"
)

// These tests press on the replay fast paths: the memory store's replay
// from a read, the store key and fingerprint built on the stack, and the
// request bodies read into reused buffers. Run them with -race: a buffer
// reused while something still reads it is a data race as well as a wrong
// answer.

// trickle hands out its bytes a few at a time and hides its length, as a
// chunked body arriving in pieces does.
type trickle struct{ b []byte }

func (t *trickle) Read(p []byte) (int, error) {
	if len(t.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), 7)], t.b)
	t.b = t.b[n:]
	return n, nil
}

// bodyModes are the ways a body reaches the middleware: with its length
// declared, of unknown length (ContentLength -1), and of unknown length
// arriving a few bytes per Read.
var bodyModes = []string{"declared", "unknown", "trickled"}

func requestWith(mode, key string, body []byte) *http.Request {
	var rd io.Reader
	switch mode {
	case "declared":
		rd = bytes.NewReader(body)
	case "unknown":
		rd = io.MultiReader(bytes.NewReader(body))
	default:
		rd = &trickle{b: bytes.Clone(body)}
	}
	r := httptest.NewRequest(http.MethodPost, "/charges", rd)
	r.Header.Set(idempotency.HeaderKey, key)
	return r
}

// patterned returns n bytes that no other (seed, n) pair repeats, unless n
// is too small to tell them apart.
func patterned(seed string, n int) []byte {
	b := make([]byte, 0, n)
	for i := 0; len(b) < n; i++ {
		b = append(b, seed...)
		b = append(b, '/')
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, ';')
	}
	return b[:n]
}

// echoRuns answers 201 with the body it read and counts its runs per key.
type echoRuns struct{ runs sync.Map } // key → *atomic.Int32

func (h *echoRuns) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n, _ := h.runs.LoadOrStore(r.Header.Get(idempotency.HeaderKey), new(atomic.Int32))
	n.(*atomic.Int32).Add(1)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusTeapot)
		return
	}
	w.Header().Set("X-Len", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(body)
}

func (h *echoRuns) count(key string) int32 {
	n, ok := h.runs.Load(key)
	if !ok {
		return 0
	}
	return n.(*atomic.Int32).Load()
}

var bodySizes = []int{0, 1, 13, 510, 511, 512, 513, 1023, 1024, 4096, 64<<10 - 1, 64 << 10, 64<<10 + 1, 100 << 10}

// Requests with bodies just under, at and over the size read into a reused
// buffer, declared or of unknown length, sent at once from many goroutines:
// each key runs once and replays its own body, never another request's; a
// different body under a used key is refused with 422; equal bodies under
// different keys each run.
func TestMiddlewareNeverMixesBodiesOfConcurrentRequests(t *testing.T) {
	next := &echoRuns{}
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{})(next)
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for _, size := range bodySizes {
				for _, mode := range bodyModes {
					key := fmt.Sprintf("g%d-%d-%s", g, size, mode)
					body := patterned(key, size)
					first := serve(h, requestWith(mode, key, body))
					if !assert.Equal(t, http.StatusCreated, first.Code, key) {
						continue
					}
					assert.Equal(t, string(body), first.Body.String(), key)
					again := serve(h, requestWith(bodyModes[(g+size)%3], key, body))
					assert.Equal(t, "true", again.Header().Get(idempotency.HeaderReplayed), key)
					assert.Equal(t, string(body), again.Body.String(), "%s replays its own body", key)
					assert.Equal(t, strconv.Itoa(size), again.Header().Get("X-Len"), key)
					if size > 0 {
						other := bytes.Clone(body)
						other[len(other)-1] ^= 1
						assert.Equal(t, http.StatusUnprocessableEntity, serve(h, requestWith(mode, key, other)).Code, "%s with its last byte changed", key)
					}
					assert.Equal(t, http.StatusUnprocessableEntity, serve(h, requestWith(mode, key, append(bytes.Clone(body), 'x'))).Code, "%s one byte longer", key)

					shared := patterned("shared", size) // the same body under every goroutine's key
					own := fmt.Sprintf("shared-g%d-%d-%s", g, size, mode)
					w := serve(h, requestWith(mode, own, shared))
					assert.Equal(t, http.StatusCreated, w.Code, own)
					assert.Empty(t, w.Header().Get(idempotency.HeaderReplayed), "%s is a key of its own", own)
					assert.Equal(t, string(shared), w.Body.String(), own)
				}
			}
		})
	}
	wg.Wait()
	for g := range 6 {
		for _, size := range bodySizes {
			for _, mode := range bodyModes {
				key := fmt.Sprintf("g%d-%d-%s", g, size, mode)
				assert.Equal(t, int32(1), next.count(key), "%s runs once", key)
			}
		}
	}
}

// A handler that has not read its body yet, or keeps r.Body to read it
// after it returned (from a goroutine of its own), reads the bytes sent,
// while other requests are refused with 409, 422, 413 and 400 and replayed
// at once, each reading its body into a reused buffer.
func TestMiddlewareKeepsABodyAHandlerHasNotReadWhileRefusalsReuseBuffers(t *testing.T) {
	sent := patterned("the handler's own body", 3000)
	started, proceed, readLater := make(chan struct{}), make(chan struct{}), make(chan struct{})
	late := make(chan []byte, 1)
	var kept io.Reader
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kept = r.Body
		close(started)
		<-proceed
		// The body is read after the handler returned, by a goroutine
		// the test joins through late.
		go func() {
			<-readLater
			b, _ := io.ReadAll(r.Body)
			late <- b
		}()
		w.WriteHeader(http.StatusAccepted)
	})
	s := newStore()
	cfg := idempotency.MiddlewareConfig{MaxBodySize: 4000}
	hSlow := idempotency.Middleware(s, cfg)(slow)
	churn := idempotency.Middleware(s, cfg)(&echoRuns{})
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- serve(hSlow, requestWith("unknown", "slow", sent)) }()
	<-started

	require.Equal(t, http.StatusCreated, serve(churn, requestWith("declared", "done", patterned("done", 2000))).Code)
	hammer := func(rounds int) {
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := range rounds {
					mode := bodyModes[(g+i)%3]
					noise := patterned(fmt.Sprintf("noise %d %d", g, i), 2500)
					if w := serve(hSlow, requestWith(mode, "slow", noise)); w.Code != http.StatusUnprocessableEntity && w.Code != http.StatusConflict {
						t.Errorf("another body under an in-progress key: %d", w.Code)
					}
					assert.Equal(t, http.StatusRequestEntityTooLarge, serve(churn, requestWith(mode, "big", patterned("big", 4001))).Code)
					bad := httptest.NewRequest(http.MethodPost, "/charges", io.MultiReader(bytes.NewReader(noise), failingBody{}))
					bad.Header.Set(idempotency.HeaderKey, "bad")
					assert.Equal(t, http.StatusBadRequest, serve(churn, bad).Code)
					w := serve(churn, requestWith(mode, "done", patterned("done", 2000)))
					assert.Equal(t, "true", w.Header().Get(idempotency.HeaderReplayed))
					assert.Equal(t, patterned("done", 2000), w.Body.Bytes())
					assert.Equal(t, http.StatusUnprocessableEntity, serve(churn, requestWith(mode, "done", noise)).Code)
				}
			})
		}
		wg.Wait()
	}
	hammer(40)
	w := serve(hSlow, requestWith("declared", "slow", sent))
	assert.Equal(t, http.StatusConflict, w.Code, "the same request while the first runs")
	close(proceed)
	assert.Equal(t, http.StatusAccepted, (<-done).Code)
	hammer(40)
	close(readLater)
	assert.Equal(t, sent, <-late, "the body read after the handler returned")
	rest, err := io.ReadAll(kept)
	require.NoError(t, err)
	assert.Empty(t, rest, "kept is the reader the goroutine drained")
}

// The body bound holds whatever length a body declares: up to MaxBodySize
// it reaches the handler whole, one byte more gets 413 and runs nothing;
// and the request after a 413, read into the buffer the refused one used,
// gets its own body.
func TestMiddlewareBoundsBodiesOfUnknownLengthAndReusesTheirBuffersCleanly(t *testing.T) {
	next := &echoRuns{}
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{MaxBodySize: 600})(next)
	for i := range 20 {
		for _, mode := range bodyModes {
			for _, size := range []int{599, 600, 601, 5000} {
				key := fmt.Sprintf("%d-%s-%d", i, mode, size)
				body := patterned(key, size)
				w := serve(h, requestWith(mode, key, body))
				if size > 600 {
					assert.Equal(t, http.StatusRequestEntityTooLarge, w.Code, key)
					assert.Zero(t, next.count(key), "%s: the handler does not run", key)
					continue
				}
				assert.Equal(t, http.StatusCreated, w.Code, key)
				assert.Equal(t, body, w.Body.Bytes(), key)
			}
		}
	}
}

// Tenant scopes keys whatever it returns: values whose concatenation with
// the key is equal, the empty tenant, bytes outside ASCII and tenants long
// enough for the store key to be hashed all make records of their own, and
// each replays its own response.
func TestMiddlewareScopesKeysByOddTenants(t *testing.T) {
	long := strings.Repeat("t", 300)
	pairs := []struct{ tenant, key string }{
		{"a", "bc"}, {"ab", "c"}, {"", "abc"}, {"0:", "abc"}, {"1:a", "bc"},
		{"\x00\xff", "abc"}, {"\x00", "abc"}, {"\xff", "abc"},
		{long + "1", "abc"}, {long + "2", "abc"}, {long, "1abc"},
		// "0:" and the key: 255 bytes is the longest store key kept as it
		// is, 256 is hashed; neither meets the other nor a tenant's.
		{"", strings.Repeat("k", 253)}, {"", strings.Repeat("k", 254)}, {"k", strings.Repeat("k", 252)},
	}
	tenantOf := func(r *http.Request) string { // any bytes, sent quoted
		v, err := strconv.Unquote(r.Header.Get("X-Tenant"))
		require.NoError(t, err)
		return v
	}
	runs := map[string]int{}
	var mu sync.Mutex
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := tenantOf(r) + "|" + r.Header.Get(idempotency.HeaderKey)
		mu.Lock()
		runs[id]++
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, id)
	})
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{Tenant: tenantOf})(next)
	body := patterned("one body for all", 1000)
	send := func(tenant, key string) *httptest.ResponseRecorder {
		r := requestWith("declared", key, body)
		r.Header.Set("X-Tenant", strconv.Quote(tenant))
		return serve(h, r)
	}
	for round := range 3 {
		for _, p := range pairs {
			w := send(p.tenant, p.key)
			assert.Equal(t, http.StatusCreated, w.Code)
			assert.Equal(t, p.tenant+"|"+p.key, w.Body.String(), "%q %q gets its own response", p.tenant, p.key)
			assert.Equal(t, round > 0, w.Header().Get(idempotency.HeaderReplayed) == "true", "%q %q round %d", p.tenant, p.key, round)
		}
	}
	for _, p := range pairs {
		assert.Equal(t, 1, runs[p.tenant+"|"+p.key], "%q %q runs once", p.tenant, p.key)
	}
}

// A Tenant that panics claims nothing: the panic goes on, the handler does
// not run, and the same request afterwards runs as the key's first, then
// replays, with its own body.
func TestMiddlewareClaimsNothingWhenTenantPanics(t *testing.T) {
	next := &echoRuns{}
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{Tenant: func(r *http.Request) string {
		if r.Header.Get("X-Panic") != "" {
			panic("tenant lookup failed")
		}
		return "acct"
	}})(next)
	body := patterned("after the panic", 2000)
	for range 5 {
		r := requestWith("unknown", "k", patterned("panicking", 2000))
		r.Header.Set("X-Panic", "1")
		assert.PanicsWithValue(t, "tenant lookup failed", func() { serve(h, r) })
	}
	assert.Zero(t, next.count("k"))
	w := serve(h, requestWith("unknown", "k", body))
	require.Equal(t, http.StatusCreated, w.Code, "the key is not left in progress")
	assert.Empty(t, w.Header().Get(idempotency.HeaderReplayed))
	assert.Equal(t, body, w.Body.Bytes())
	w = serve(h, requestWith("declared", "k", body))
	assert.Equal(t, "true", w.Header().Get(idempotency.HeaderReplayed))
	assert.Equal(t, body, w.Body.Bytes())
	assert.Equal(t, int32(1), next.count("k"))
}

// Without Tenant every Authorization value is part of the fingerprint, in
// order and each whole, on the replay from a read as on the claim.
func TestMiddlewareFingerprintsEveryAuthorizationValueOnAReplay(t *testing.T) {
	next := &echoRuns{}
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{})(next)
	body := patterned("auth", 1500)
	send := func(auth ...string) *httptest.ResponseRecorder {
		r := requestWith("declared", "k", body)
		for _, a := range auth {
			r.Header.Add("Authorization", a)
		}
		return serve(h, r)
	}
	require.Equal(t, http.StatusCreated, send("Bearer a", "Bearer bc").Code)
	for _, other := range [][]string{{"Bearer aBearer bc"}, {"Bearer aBearer b", "c"}, {"Bearer bc", "Bearer a"}, {"Bearer a"}, {}, {"Bearer a", "Bearer bc", ""}} {
		assert.Equal(t, http.StatusUnprocessableEntity, send(other...).Code, "credentials %q", other)
	}
	w := send("Bearer a", "Bearer bc")
	assert.Equal(t, "true", w.Header().Get(idempotency.HeaderReplayed))
	assert.Equal(t, body, w.Body.Bytes())
	assert.Equal(t, int32(1), next.count("k"))
}

// countingStore embeds a memory store and counts the claims it is sent.
type countingStore struct {
	*idempotency.MemoryStore
	claims atomic.Int32
}

func (s *countingStore) Claim(ctx context.Context, key, fingerprint, token string, lease time.Duration) (idempotency.Claim, error) {
	s.claims.Add(1)
	return s.MemoryStore.Claim(ctx, key, fingerprint, token, lease)
}

// A store that embeds the memory store is sent every claim, replays
// included, by the middleware and by a Policy: only the memory store's own
// type is answered from a read.
func TestAWrapperOfTheMemoryStoreIsSentEveryClaim(t *testing.T) {
	s := &countingStore{MemoryStore: newStore()}
	next := &echoRuns{}
	h := idempotency.Middleware(s, idempotency.MiddlewareConfig{})(next)
	body := patterned("wrapped", 1000)
	for i := range 5 {
		w := serve(h, requestWith("declared", "k", body))
		assert.Equal(t, i > 0, w.Header().Get(idempotency.HeaderReplayed) == "true")
		assert.Equal(t, body, w.Body.Bytes())
	}
	assert.Equal(t, int32(5), s.claims.Load(), "one claim per request")

	s.claims.Store(0)
	p := idempotency.NewPolicy(s, idempotency.Config{})
	runs := 0
	ctx := idempotency.WithKey(t.Context(), "p")
	for range 4 {
		require.NoError(t, p.Do(ctx, func(context.Context) error { runs++; return nil }))
	}
	assert.Equal(t, 1, runs)
	assert.Equal(t, int32(4), s.claims.Load(), "one claim per call")
}

// A completed record the byte bound evicted is not replayed: the request
// runs again, as a claim of a missing record does; while records are
// evicted under concurrent replays, every answer for the key is its own
// response (a replay or a fresh run) or a 409 while a run is in progress,
// never another key's response or a 422.
func TestMiddlewareRunsAgainForARecordTheByteBoundEvicted(t *testing.T) {
	s := idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxBytes: 8000})
	next := &echoRuns{}
	h := idempotency.Middleware(s, idempotency.MiddlewareConfig{})(next)
	body := patterned("evicted", 1000)
	require.Equal(t, http.StatusCreated, serve(h, requestWith("declared", "k", body)).Code)
	require.Equal(t, "true", serve(h, requestWith("declared", "k", body)).Header().Get(idempotency.HeaderReplayed))
	for i := range 10 {
		key := fmt.Sprintf("filler-%d", i)
		require.Equal(t, http.StatusCreated, serve(h, requestWith("declared", key, patterned(key, 1000))).Code)
	}
	w := serve(h, requestWith("declared", "k", body))
	assert.Equal(t, http.StatusCreated, w.Code)
	assert.Empty(t, w.Header().Get(idempotency.HeaderReplayed), "the evicted record is not replayed")
	assert.Equal(t, int32(2), next.count("k"))

	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 100 {
				if g%2 == 0 {
					key := fmt.Sprintf("churn-%d-%d", g, i)
					assert.Equal(t, http.StatusCreated, serve(h, requestWith("unknown", key, patterned(key, 1000))).Code)
					continue
				}
				w := serve(h, requestWith(bodyModes[i%3], "k", body))
				switch w.Code {
				case http.StatusConflict:
				case http.StatusCreated:
					assert.Equal(t, body, w.Body.Bytes())
				default:
					t.Errorf("status %d for the evicted key", w.Code)
				}
			}
		})
	}
	wg.Wait()
}

// The replay from a read answers up to the last nanosecond of the
// retention and not at its end, where the request runs again; then a
// different request under the key runs too (an expired record holds no
// fingerprint against it), as the claim decides. Records that expired
// earlier are still held when it ends (each request drops only two), so
// the record's own deadline decides, not its being dropped.
func TestMiddlewareReplaysUntilTheLastNanosecondOfTheRetention(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newStore()
		next := &echoRuns{}
		short := idempotency.Middleware(s, idempotency.MiddlewareConfig{Retention: time.Minute})(next)
		for i := range 20 {
			key := fmt.Sprintf("short-%d", i)
			require.Equal(t, http.StatusCreated, serve(short, requestWith("declared", key, patterned(key, 600))).Code)
		}
		h := idempotency.Middleware(s, idempotency.MiddlewareConfig{Retention: time.Hour})(next)
		body, other := patterned("retained", 1000), patterned("other", 1000)
		require.Equal(t, http.StatusCreated, serve(h, requestWith("declared", "k", body)).Code)
		require.Equal(t, http.StatusCreated, serve(h, requestWith("declared", "j", body)).Code)
		time.Sleep(time.Hour - time.Nanosecond)
		w := serve(h, requestWith("unknown", "k", body))
		assert.Equal(t, "true", w.Header().Get(idempotency.HeaderReplayed), "within the retention")
		assert.Equal(t, body, w.Body.Bytes())
		assert.Equal(t, http.StatusUnprocessableEntity, serve(h, requestWith("declared", "j", other)).Code, "and its fingerprint still holds")
		time.Sleep(time.Nanosecond)
		w = serve(h, requestWith("unknown", "k", body))
		assert.Equal(t, http.StatusCreated, w.Code)
		assert.Empty(t, w.Header().Get(idempotency.HeaderReplayed), "the retention ended: the same request runs again")
		assert.Equal(t, body, w.Body.Bytes())
		assert.Equal(t, int32(2), next.count("k"))
		w = serve(h, requestWith("declared", "j", other))
		assert.Equal(t, http.StatusCreated, w.Code, "another request under an expired key runs")
		assert.Equal(t, other, w.Body.Bytes())
		assert.Greater(t, s.Len(), 1, "expired records were still held when the retention ended")
	})
}

// The replay from a read takes over, as the claim does, a record whose
// owner's lease ended, whatever its fingerprint, with a higher fence; and
// answers in progress while the lease runs.
func TestDoOverAMemoryStoreTakesOverAnExpiredLeaseWithAHigherFence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
		_, err := s.Claim(t.Context(), "k", "crashed owner", idempotency.NewToken(), time.Second)
		require.NoError(t, err)
		op := func(ctx context.Context) (int64, error) {
			f, _ := idempotency.FenceFrom(ctx)
			return f.Fence, nil
		}
		_, _, err = idempotency.Do(t.Context(), s, "k", op, idempotency.Options{Fingerprint: "crashed owner"})
		assert.ErrorIs(t, err, idempotency.ErrInProgress, "within the lease")
		time.Sleep(1500 * time.Millisecond)
		fence, replayed, err := idempotency.Do(t.Context(), s, "k", op, idempotency.Options{Fingerprint: "another"})
		require.NoError(t, err)
		assert.False(t, replayed)
		assert.Equal(t, int64(2), fence, "taken over with the next fence")
		fence, replayed, err = idempotency.Do(t.Context(), s, "k", op, idempotency.Options{Fingerprint: "another"})
		require.NoError(t, err)
		assert.True(t, replayed)
		assert.Equal(t, int64(2), fence)
	})
}

// A replay of a request whose body was read into a reused buffer equals
// the first response in status, headers (several values of one name
// included; Content-Length, never recorded, is the replayed body's) and body, however many other requests were answered between.
func TestMiddlewareReplaysAPooledBodysResponseWhole(t *testing.T) {
	resp := patterned("response", 100<<10)
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Add("X-Multi", "one")
		w.Header().Add("X-Multi", "two")
		w.Header().Set("X-Body-Len", strconv.Itoa(len(body)))
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write(resp)
	})
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{})(next)
	churn := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{})(&echoRuns{})
	body := patterned("request", 1000)
	first := serve(h, requestWith("trickled", "k", body))
	require.Equal(t, http.StatusAccepted, first.Code)
	for i := range 20 {
		key := fmt.Sprintf("churn-%d", i)
		serve(churn, requestWith("unknown", key, patterned(key, 1000+i)))
		w := serve(h, requestWith(bodyModes[i%3], "k", body))
		assert.Equal(t, first.Code, w.Code)
		assert.Equal(t, first.Body.Bytes(), w.Body.Bytes())
		got := w.Header().Clone()
		assert.Equal(t, "true", got.Get(idempotency.HeaderReplayed))
		got.Del(idempotency.HeaderReplayed)
		assert.Equal(t, strconv.Itoa(len(resp)), got.Get("Content-Length"), "Content-Length is never recorded: the replay sets it")
		got.Del("Content-Length")
		assert.Equal(t, first.Header(), got)
	}
}

// Many requests at once under one key with one body of a size read into a
// reused buffer: the handler runs once, and every other answer is the
// first response replayed or a 409 while it runs.
func TestMiddlewareRunsOnceForConcurrentEqualRequests(t *testing.T) {
	for _, size := range []int{511, 512, 4096} {
		next := &echoRuns{}
		h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{})(next)
		body := patterned("once", size)
		var wg sync.WaitGroup
		var created atomic.Int32
		for g := range 8 {
			wg.Go(func() {
				for i := range 30 {
					w := serve(h, requestWith(bodyModes[(g+i)%3], "k", body))
					switch w.Code {
					case http.StatusConflict:
					case http.StatusCreated:
						if w.Header().Get(idempotency.HeaderReplayed) == "" {
							created.Add(1)
						}
						assert.Equal(t, body, w.Body.Bytes())
					default:
						t.Errorf("size %d: status %d", size, w.Code)
					}
				}
			})
		}
		wg.Wait()
		assert.Equal(t, int32(1), next.count("k"), "size %d: the handler runs once", size)
		assert.Equal(t, int32(1), created.Load(), "size %d: one answer is not a replay", size)
	}
}

// Many requests at once under one key with different bodies: the handler
// runs once, and no request is answered with the response to another's
// body: a replay carries the body its own request sent, every other answer
// is a 409 or a 422.
func TestMiddlewareNeverReplaysOneBodysResponseToAnother(t *testing.T) {
	next := &echoRuns{}
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{})(next)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 40 {
				body := patterned(fmt.Sprintf("body %d", (g+i)%4), 500+100*((g+i)%4)) // 500 to 800 bytes
				w := serve(h, requestWith(bodyModes[i%3], "k", body))
				switch w.Code {
				case http.StatusConflict, http.StatusUnprocessableEntity:
				case http.StatusCreated:
					assert.Equal(t, string(body), w.Body.String(), "an answer to its own body only")
				default:
					t.Errorf("status %d", w.Code)
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), next.count("k"))
}

// Over a real server and connections kept alive, chunked bodies around the
// reused-buffer size, sent at once by several clients, are each answered
// with their own response: the first run's, then its replay; a body over
// MaxBodySize gets 413 and the next request on a new connection its own
// answer.
func TestMiddlewareOverAServerAnswersEachChunkedBodyItsOwnResponse(t *testing.T) {
	next := &echoRuns{}
	srv := httptest.NewServer(idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{MaxBodySize: 8000})(next))
	defer srv.Close()
	client := srv.Client()
	defer client.CloseIdleConnections()
	post := func(key string, body []byte) (int, []byte, string) {
		// A reader of unknown length is sent chunked.
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/charges", &trickle{b: bytes.Clone(body)})
		require.NoError(t, err)
		req.Header.Set(idempotency.HeaderKey, key)
		resp, err := client.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		got, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, got, resp.Header.Get(idempotency.HeaderReplayed)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for _, size := range []int{1, 511, 512, 513, 2000, 8000, 8001} {
				key := fmt.Sprintf("g%d-%d", g, size)
				body := patterned(key, size)
				code, got, _ := post(key, body)
				if size > 8000 {
					assert.Equal(t, http.StatusRequestEntityTooLarge, code, key)
					continue
				}
				assert.Equal(t, http.StatusCreated, code, key)
				assert.Equal(t, string(body), string(got), key)
				code, got, replayed := post(key, body)
				assert.Equal(t, http.StatusCreated, code, key)
				assert.Equal(t, "true", replayed, key)
				assert.Equal(t, string(body), string(got), key)
			}
		})
	}
	wg.Wait()
}

// answer is what one request got: status, headers and body, and the kinds
// and errors of the events it caused.
type answer struct {
	code   int
	header http.Header
	body   string
	events []string
}

// Over a memory store a replay is answered from a read; over a store that
// embeds it, every request is claimed. The same requests, in every state a
// record can be in (completed, reused with another body or another
// caller's credentials, released by the handler, at the last nanosecond of
// its retention and after it, asked for by a client that went away), get
// the same answers and the same events from both.
func TestMiddlewareAnswersFromAReadExactlyWhatAClaimAnswers(t *testing.T) {
	script := func(t *testing.T, store idempotency.Store) []answer {
		var obs resiliencetest.Recorder
		runs := 0
		next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			runs++
			body, _ := io.ReadAll(r.Body)
			if r.Header.Get("X-Release") != "" {
				idempotency.ReleaseKey(r.Context())
			}
			w.Header().Add("X-Run", strconv.Itoa(runs))
			w.Header().Add("X-Run", "again")
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write(body)
		})
		h := idempotency.Middleware(store, idempotency.MiddlewareConfig{Retention: time.Hour, Observer: &obs})(next)
		a, b := patterned("a", 1200), patterned("b", 1200)
		var out []answer
		send := func(mode, key string, body []byte, edit func(*http.Request) *http.Request) {
			obs.Reset()
			r := requestWith(mode, key, body)
			if edit != nil {
				r = edit(r)
			}
			w := serve(h, r)
			got := answer{code: w.Code, header: w.Header(), body: w.Body.String()}
			for _, e := range obs.Events() {
				got.events = append(got.events, fmt.Sprintf("%v %v", e.Kind, e.Err))
			}
			out = append(out, got)
		}
		release := func(r *http.Request) *http.Request { r.Header.Set("X-Release", "1"); return r }
		send("declared", "k", a, nil)
		send("unknown", "k", a, nil)
		send("trickled", "k", b, nil)
		send("declared", "k", a, func(r *http.Request) *http.Request { r.Header.Set("Authorization", "Bearer other"); return r })
		send("declared", "r", a, release)
		send("unknown", "r", a, nil)
		send("unknown", "r", a, nil)
		gone, cancel := context.WithCancel(t.Context())
		cancel()
		send("declared", "k", a, func(r *http.Request) *http.Request { return r.WithContext(gone) })
		time.Sleep(time.Hour - time.Nanosecond)
		send("declared", "k", a, nil)
		time.Sleep(time.Nanosecond)
		send("declared", "k", a, nil)
		send("declared", "k", a, nil)
		return out
	}
	synctest.Test(t, func(t *testing.T) {
		read := script(t, newStore())
		claimed := script(t, &countingStore{MemoryStore: newStore()})
		require.Len(t, claimed, len(read))
		for i := range read {
			assert.Equal(t, claimed[i], read[i], "request %d", i)
		}
		assert.Equal(t, "true", read[1].header.Get(idempotency.HeaderReplayed), "the script replays")
		assert.Equal(t, http.StatusUnprocessableEntity, read[2].code, "and refuses")
	})
}

// Do over a memory store answers a replay from a read; over a store that
// embeds it, every call is claimed. The same calls, in every state a
// record can be in (completed, reused with another fingerprint, released,
// in progress, its lease ended, at the last nanosecond of its retention
// and after it), return the same values, replay flags, errors and fences
// from both.
func TestDoAnswersFromAReadExactlyWhatAClaimAnswers(t *testing.T) {
	script := func(t *testing.T, store idempotency.Store, ms *idempotency.MemoryStore) []string {
		var out []string
		do := func(ctx context.Context, key, fp string, release bool) {
			v, replayed, err := idempotency.Do(ctx, store, key, func(ctx context.Context) (string, error) {
				f, _ := idempotency.FenceFrom(ctx)
				if release {
					idempotency.ReleaseKey(ctx)
				}
				return fmt.Sprintf("%s run with fence %d", key, f.Fence), nil
			}, idempotency.Options{Fingerprint: fp, Retention: time.Hour, Lease: time.Second})
			out = append(out, fmt.Sprintf("%q %v %v", v, replayed, err))
		}
		for i := range 20 { // records that expire first, and are still held when k's retention ends
			_, _, err := idempotency.Do(t.Context(), store, fmt.Sprintf("short-%d", i), func(context.Context) (int, error) { return i, nil }, idempotency.Options{Retention: time.Minute})
			require.NoError(t, err)
		}
		do(t.Context(), "k", "a", false)
		do(t.Context(), "k", "a", false)
		do(t.Context(), "k", "b", false)
		do(t.Context(), "r", "", true) // a released record keeps no fingerprint: the empty one must not match it
		do(t.Context(), "r", "", false)
		do(t.Context(), "r", "", false)
		_, err := ms.Claim(t.Context(), "p", "a", idempotency.NewToken(), time.Second) // an owner that crashes
		require.NoError(t, err)
		do(t.Context(), "p", "a", false)
		done, cancel := context.WithCancel(t.Context())
		cancel()
		do(done, "k", "a", false)
		time.Sleep(1500 * time.Millisecond) // p's lease ended
		do(t.Context(), "p", "b", false)
		do(t.Context(), "p", "b", false)
		time.Sleep(time.Hour - 1500*time.Millisecond - time.Nanosecond)
		do(t.Context(), "k", "a", false)
		time.Sleep(time.Nanosecond)
		do(t.Context(), "k", "a", false)
		do(t.Context(), "k", "a", false)
		return out
	}
	synctest.Test(t, func(t *testing.T) {
		ms := newStore()
		read := script(t, ms, ms)
		wrapped := &countingStore{MemoryStore: newStore()}
		claimed := script(t, wrapped, wrapped.MemoryStore)
		assert.Equal(t, claimed, read)
		assert.Equal(t, `"k run with fence 1" true <nil>`, read[1], "the script replays")
		assert.Equal(t, `"p run with fence 2" false <nil>`, read[8], "and takes a crashed owner's key over")
		assert.Equal(t, int32(len(read)-1+20), wrapped.claims.Load(), "the wrapper is sent a claim for every call but the one with a done context")
	})
}
