package idempotency_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/magicmagnets/resilience/idempotency"
)

// The allocations of the paths a service runs on every request are
// deterministic, so they are held here; their speed is measured in
// bench_test.go.

func TestDoReplayAllocatesTwice(t *testing.T) {
	s := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	ctx := context.Background()
	op := func(context.Context) (int, error) { return 42, nil }
	_, _, _ = idempotency.Do(ctx, s, "key", op, idempotency.Options{})

	allocs := testing.AllocsPerRun(1000, func() { _, _, _ = idempotency.Do(ctx, s, "key", op, idempotency.Options{}) })

	// The value's decoding (encoding/json, and the value it decodes into);
	// the owner token comes from a batch.
	assert.LessOrEqual(t, allocs, 2.0)
}

// replayAllocs records kibHandler's answer to a keyed POST of data through
// the middleware over a memory store, then replays it and returns the
// allocations a replay makes and whether the last one was replayed. Each
// replay gets a fresh response header map, as a server gives a request.
func replayAllocs(data []byte) (allocs float64, replayed bool) {
	h := idempotency.Middleware(idempotency.NewMemoryStore(idempotency.MemoryConfig{}), idempotency.MiddlewareConfig{})(kibHandler{})
	h.ServeHTTP(httptest.NewRecorder(), request("POST", "k", string(data)))
	r := request("POST", "k", "")
	r.ContentLength = int64(len(data))
	body := resettableBody{bytes.NewReader(data)}
	w := &discardWriter{}
	allocs = testing.AllocsPerRun(1000, func() {
		body.Reset(data)
		r.Body = body
		w.h = make(http.Header, 4)
		h.ServeHTTP(w, r)
	})
	return allocs, w.h.Get("Idempotent-Replayed") == "true"
}

func TestMiddlewareReplayOfAKiBAllocatesAtMostFiveTimes(t *testing.T) {
	allocs, replayed := replayAllocs([]byte(`{"amount":50}`))

	// Two are the response header map's, as a server makes for every
	// request; the middleware's own are the body it reads and the replayed
	// headers' strings and slices, two whatever their number. The store key
	// and the fingerprint stay on the stack for a memory store's replay,
	// and the reader the handler would read the body from is made only when
	// the handler runs.
	assert.True(t, replayed)
	assert.LessOrEqual(t, allocs, 5.0)
}

func TestMiddlewareReplayForAKiBBodyAllocatesAtMostFourTimes(t *testing.T) {
	allocs, replayed := replayAllocs([]byte(`{"note":"` + strings.Repeat("x", 1010) + `"}`))

	// As for a short body, less the body's own buffer: one of a kilobyte
	// is read into a buffer a replay before it used.
	assert.True(t, replayed)
	assert.LessOrEqual(t, allocs, 4.0)
}

func TestMemoryStoreNewKeyAllocatesFiveTimes(t *testing.T) {
	s := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	ctx := context.Background()
	result := []byte(`{"charge":"ch_1"}`)
	buf := []byte("key-")
	i := 0

	allocs := testing.AllocsPerRun(1000, func() {
		i++
		key := string(strconv.AppendInt(buf[:4], int64(i), 10))
		c, err := s.Claim(ctx, key, "fp", idempotency.NewToken(), time.Minute)
		if err == nil {
			err = s.Complete(ctx, key, c.Lock, result, time.Minute)
		}
		if err != nil {
			t.Fatal(err)
		}
	})

	// The key's and the token's strings are the caller's; the store's are
	// the record, one copy of its strings and the result's copy.
	assert.LessOrEqual(t, allocs, 5.0)
}
