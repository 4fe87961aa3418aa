package resiliencehttp_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/resiliencehttp"
)

// The key from the request's context, sent as an RFC 8941 string.

func TestTransportSendsKeyAsStructuredFieldString(t *testing.T) {
	uuid := idempotency.NewKey()
	cases := []struct{ key, want string }{
		{uuid, `"` + uuid + `"`},
		{"order 42", `"order 42"`},
		{`say "hi"`, `"say \"hi\""`},
		{`back\slash`, `"back\\slash"`},
		{" ~", `" ~"`},
		{strings.Repeat("k", 255), `"` + strings.Repeat("k", 255) + `"`},
		{strings.Repeat(`"`, 255), `"` + strings.Repeat(`\"`, 255) + `"`},
	}
	for _, c := range cases {
		base := &fakeBase{respond: always(http.StatusOK)}
		tr := resiliencehttp.New(resiliencehttp.Config{Base: base})
		req, _ := http.NewRequestWithContext(idempotency.WithKey(context.Background(), c.key), http.MethodPost, "http://api.test/", nil)

		_, _, err := send(tr, req)

		require.NoError(t, err, c.key)
		assert.Equal(t, []string{c.want}, base.requests()[0].Header.Values("Idempotency-Key"), c.key)
	}
}

func TestTransportRefusesKeyItCannotSend(t *testing.T) {
	cases := map[string]string{
		"too long":      strings.Repeat("k", 256),
		"non-ASCII":     "café",
		"tab":           "order\t42",
		"newline":       "order\n42",
		"NUL":           "order\x0042",
		"DEL":           "order\x7f",
		"invalid UTF-8": "order\xff",
	}
	for name, key := range cases {
		t.Run(name, func(t *testing.T) {
			base := &fakeBase{respond: always(http.StatusOK)}
			var runs atomic.Int32
			policy := resilience.PolicyFunc(func(ctx context.Context, fn resilience.Func) error {
				runs.Add(1)
				return fn(ctx)
			})
			tr := resiliencehttp.New(resiliencehttp.Config{Base: base, Policy: policy})
			body := &trackedBody{Reader: strings.NewReader("pay 10")}
			req, _ := http.NewRequestWithContext(idempotency.WithKey(context.Background(), key), http.MethodPost, "http://api.test/", body)

			resp, err := tr.RoundTrip(req)

			assert.Nil(t, resp)
			assert.ErrorIs(t, err, idempotency.ErrInvalidKey)
			assert.True(t, resilience.IsPermanent(err), "resending cannot cure the key")
			assert.False(t, idempotency.IsFinal(err))
			assert.Empty(t, base.requests(), "nothing is sent")
			assert.Zero(t, runs.Load(), "the policy does not run")
			assert.True(t, body.isClosed())
		})
	}
}

func TestTransportRefusesBadKeyThroughHTTPClient(t *testing.T) {
	base := &fakeBase{respond: always(http.StatusOK)}
	client := &http.Client{Transport: resiliencehttp.New(resiliencehttp.Config{Base: base})}
	ctx := idempotency.WithKey(context.Background(), "tenant:"+strings.Repeat("k", 250))
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://api.test/", nil)

	_, err := client.Do(req)

	assert.ErrorIs(t, err, idempotency.ErrInvalidKey)
	assert.True(t, resilience.IsPermanent(err))
	assert.Empty(t, base.requests())
}

// The library's own middleware reads back every key the Transport sends:
// it runs the handler once and replays the answer to the second request.
func TestMiddlewareAcceptsAndReplaysKeyTheTransportSends(t *testing.T) {
	for _, key := range []string{"order 42", `say "hi" \o/`, idempotency.NewKey(), strings.Repeat("~", 255)} {
		t.Run(key[:min(len(key), 16)], func(t *testing.T) {
			var runs atomic.Int32
			charge := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				n := runs.Add(1)
				w.WriteHeader(http.StatusCreated)
				io.WriteString(w, "charge #"+string(rune('0'+n)))
			})
			store := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
			url := serveHandler(t, idempotency.Middleware(store, idempotency.MiddlewareConfig{RequireKey: true})(charge))
			tr := newTransport(t, resiliencehttp.Config{Policy: quickRetry(1)})
			post := func() (*http.Response, string) {
				req, err := http.NewRequestWithContext(idempotency.WithKey(context.Background(), key), http.MethodPost, url, strings.NewReader("pay 10"))
				require.NoError(t, err)
				resp, body, err := send(tr, req)
				require.NoError(t, err)
				return resp, body
			}

			first, firstBody := post()
			again, againBody := post()

			assert.Equal(t, http.StatusCreated, first.StatusCode, "the key was accepted: %s", firstBody)
			assert.Equal(t, "charge #1", firstBody)
			assert.Equal(t, http.StatusCreated, again.StatusCode)
			assert.Equal(t, "charge #1", againBody, "the second request gets the first answer")
			assert.Equal(t, "true", again.Header.Get(idempotency.HeaderReplayed))
			assert.Equal(t, int32(1), runs.Load())
		})
	}
}
