package idempotency_test

import (
	"io"
	"net/http"
	"net/textproto"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
)

func TestMiddlewareNeverRecordsExcludedHeadersWhateverTheirSpelling(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["set-cookie"] = []string{"session=secret"}
		h["SET-COOKIE"] = []string{"other=secret"}
		h["authorization"] = []string{"Bearer secret"}
		h.Set("Proxy-Authorization", "Basic secret")
		h.Set("Connection", "X-Hop, keep-alive")
		h.Set("X-Hop", "named in Connection")
		h.Set("Keep-Alive", "timeout=5")
		h["proxy-connection"] = []string{"keep-alive"}
		h.Set("Te", "trailers")
		h.Set("Upgrade", "h2c")
		h.Set("Date", "Mon, 01 Jan 2001 00:00:00 GMT")
		h.Set("Content-Length", "7")
		h["x-internal"] = []string{"configured, lower case"}
		h.Set("X-Debug-Token", "configured")
		h.Set("Idempotent-Replayed", "forged")
		h["x-kept"] = []string{"kept"}
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, "created")
	})
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{
		ExcludeHeaders: []string{"X-INTERNAL", "x-debug-token"},
	})(next)
	first := serve(h, request("POST", "k", `{}`))
	require.Equal(t, http.StatusCreated, first.Code)

	again := serve(h, request("POST", "k", `{}`))
	require.Equal(t, http.StatusCreated, again.Code)
	for name := range again.Header() {
		switch textproto.CanonicalMIMEHeaderKey(name) {
		case "Set-Cookie", "Authorization", "Proxy-Authorization", "Connection", "X-Hop", "Keep-Alive",
			"Proxy-Connection", "Te", "Upgrade", "Date", "X-Internal", "X-Debug-Token":
			t.Errorf("%s replayed: %q", name, again.Header()[name])
		}
	}
	assert.Equal(t, []string{"true"}, again.Header().Values("Idempotent-Replayed"))
	assert.Equal(t, []string{"7"}, again.Header().Values("Content-Length"), "set by the replay, from the body")
	assert.Equal(t, []string{"kept"}, headerValues(again.Header(), "X-Kept"), "other headers are kept, under one spelling")
	assert.Equal(t, "created", again.Body.String())
}

func TestMiddlewareNeverRecordsTrailers(t *testing.T) {
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Checksum")
		w.Header().Set(http.TrailerPrefix+"X-Late", "declared by prefix")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, "created")
		w.Header().Set("X-Checksum", "abc")
	})
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{})(next)
	serve(h, request("POST", "k", `{}`))
	again := serve(h, request("POST", "k", `{}`))
	require.Equal(t, "true", again.Header().Get("Idempotent-Replayed"))
	assert.Empty(t, again.Header().Values("Trailer"))
	assert.Empty(t, again.Header().Values("X-Checksum"))
	assert.Empty(t, again.Header().Values(http.TrailerPrefix+"X-Late"))
}
