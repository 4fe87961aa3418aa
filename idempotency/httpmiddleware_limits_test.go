package idempotency_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
)

// Every size and duration of MiddlewareConfig has a tested outcome at its
// extremes; negative ones panic (TestMiddlewarePanicsOnProgrammerErrors).

// echo answers 201 with the request body it read.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(body)
})

func TestMiddlewareTakesMaxInt64AsNoBodyBound(t *testing.T) {
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{MaxBodySize: math.MaxInt64})(echo)
	body := strings.Repeat("x", 2<<20) // over the default bound
	w := serve(h, request("POST", "k", body))
	require.Equal(t, http.StatusCreated, w.Code)
	assert.Equal(t, len(body), w.Body.Len(), "the handler reads the whole body")

	limited := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{})(echo)
	assert.Equal(t, http.StatusRequestEntityTooLarge, serve(limited, request("POST", "k", body)).Code, "the default bound is 1 MiB")
}

func TestMiddlewareTakesMaxIntAsTheStoresResponseBound(t *testing.T) {
	s := idempotency.NewMemoryStore(idempotency.MemoryConfig{MaxResultSize: 4 << 20})
	h := idempotency.Middleware(s, idempotency.MiddlewareConfig{MaxBodySize: 4 << 20, MaxResponseSize: math.MaxInt})(echo)
	body := strings.Repeat("x", 2<<20)
	serve(h, request("POST", "k", body))
	w := serve(h, request("POST", "k", body))
	assert.Equal(t, "true", w.Header().Get("Idempotent-Replayed"))
	assert.Equal(t, len(body), w.Body.Len(), "recorded whole")
}

func TestMiddlewareSendsAHugeInProgressRetryAfterInWholeSeconds(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	})
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{InProgressRetryAfter: math.MaxInt64})(slow)
	done := make(chan struct{})
	go func() { defer close(done); serve(h, request("POST", "k", `{}`)) }()
	<-entered
	w := serve(h, request("POST", "k", `{}`))
	assert.Equal(t, http.StatusConflict, w.Code)
	assert.Equal(t, "9223372037", w.Header().Get("Retry-After"), "math.MaxInt64 ns rounded up, no overflow")
	close(release)
	<-done
}

func TestMiddlewareTakesMaxInt64DurationsAsNever(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		entered, release := make(chan struct{}), make(chan struct{})
		var runs int
		next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			runs++
			if runs == 1 {
				close(entered)
				<-release
			}
			w.WriteHeader(http.StatusCreated)
		})
		h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{Lease: math.MaxInt64, Retention: math.MaxInt64})(next)
		done := make(chan struct{})
		go func() { defer close(done); serve(h, request("POST", "k", `{}`)) }()
		<-entered
		time.Sleep(365 * 24 * time.Hour)
		assert.Equal(t, http.StatusConflict, serve(h, request("POST", "k", `{}`)).Code, "a lease of math.MaxInt64 does not end")
		close(release)
		<-done
		time.Sleep(365 * 24 * time.Hour)
		w := serve(h, request("POST", "k", `{}`))
		assert.Equal(t, "true", w.Header().Get("Idempotent-Replayed"), "a retention of math.MaxInt64 does not end")
		assert.Equal(t, 1, runs)
	})
}

func TestMiddlewareWithANanosecondLeaseCancelsTheHandlerButRecordsItsResponse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var runs int
		var cause error
		next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			runs++
			time.Sleep(time.Second)
			cause = context.Cause(r.Context())
			w.WriteHeader(http.StatusCreated)
		})
		h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{Lease: time.Nanosecond})(next)
		serve(h, request("POST", "k", `{}`))
		assert.ErrorIs(t, cause, idempotency.ErrLockLost, "the lease cannot be proven held")
		w := serve(h, request("POST", "k", `{}`))
		assert.Equal(t, "true", w.Header().Get("Idempotent-Replayed"), "recorded: nobody took the key over")
		assert.Equal(t, 1, runs)
	})
}

// failingBody fails every read, as a body cut off by the client does.
type failingBody struct{}

func (failingBody) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

func TestMiddlewareAnswers400ForABodyThatCannotBeRead(t *testing.T) {
	next := &chargeHandler{}
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{})(next)
	r := request("POST", "k", "")
	r.Body = io.NopCloser(failingBody{})
	w := serve(h, r)
	assert.Equal(t, http.StatusBadRequest, w.Code)
	assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
	assert.Equal(t, int32(0), next.runs.Load())
	assert.Equal(t, http.StatusCreated, serve(h, request("POST", "k", `{}`)).Code, "nothing was claimed")
}

// The declared Content-Length only sizes the first buffer: the handler
// reads the body as sent whether the length is right, too small, too
// large, unknown or past the presized bound, and the body bound counts the
// bytes read, not the bytes declared.
func TestMiddlewareReadsTheBodySentWhateverLengthItDeclares(t *testing.T) {
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{MaxBodySize: 1 << 20})(echo)
	for _, size := range []int{0, 1, 511, 512, 513, 64 << 10, 64<<10 + 1, 1 << 20} {
		body := strings.Repeat("x", size)
		for _, declared := range []int64{int64(size), int64(size) / 2, int64(size) + 10, -1, 1 << 40} {
			r := request("POST", fmt.Sprintf("k%d-%d", size, declared), body)
			r.ContentLength = declared
			w := serve(h, r)
			require.Equal(t, http.StatusCreated, w.Code, "size %d, declared %d", size, declared)
			assert.Equal(t, size, w.Body.Len(), "size %d, declared %d", size, declared)
		}
	}
	r := request("POST", "over", strings.Repeat("x", 1<<20+1))
	r.ContentLength = 10
	assert.Equal(t, http.StatusRequestEntityTooLarge, serve(h, r).Code, "one byte over the bound, whatever was declared")
}

// The buffer a request body is read into is reused for later requests'
// bodies only when no handler got it: a body a handler kept stays as it was
// sent while other requests are replayed and refused, whether the handler
// ran as the key's owner, without the store, or panicked.
func TestMiddlewareNeverReusesTheBodyAHandlerGot(t *testing.T) {
	down := &faultyStore{Store: newStore(), claim: func(context.Context, string, string, string, time.Duration) (idempotency.Claim, error) {
		return idempotency.Claim{}, errors.New("connection refused")
	}}
	churn := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{})(echo)
	other := strings.Repeat("b", 1000)
	serve(churn, request("POST", "k", other))
	sent := strings.Repeat("a", 1000)
	for _, c := range []struct {
		name  string
		store idempotency.Store
		cfg   idempotency.MiddlewareConfig
		panic bool
	}{
		{name: "owner", store: newStore()},
		{name: "without the store", store: down, cfg: idempotency.MiddlewareConfig{RunWithoutStore: true}},
		{name: "panicked", store: newStore(), panic: true},
	} {
		var kept io.Reader
		h := idempotency.Middleware(c.store, c.cfg)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			kept = r.Body
			if c.panic {
				panic(http.ErrAbortHandler)
			}
			w.WriteHeader(http.StatusCreated)
		}))
		func() {
			defer func() { _ = recover() }()
			serve(h, request("POST", "k", sent))
		}()
		require.NotNil(t, kept, c.name)
		for range 100 {
			require.Equal(t, "true", serve(churn, request("POST", "k", other)).Header().Get("Idempotent-Replayed"))
			require.Equal(t, http.StatusUnprocessableEntity, serve(churn, request("POST", "k", strings.Repeat("c", 1000))).Code)
		}
		got, err := io.ReadAll(kept)
		require.NoError(t, err)
		assert.Equal(t, sent, string(got), c.name)
	}
}
