package idempotency_test

import (
	"context"
	"crypto/sha256"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
)

// fingerprintStore records the fingerprint of every claim.
type fingerprintStore struct {
	idempotency.Store
	mu           sync.Mutex
	fingerprints []string
}

func (s *fingerprintStore) Claim(ctx context.Context, key, fp, token string, lease time.Duration) (idempotency.Claim, error) {
	s.mu.Lock()
	s.fingerprints = append(s.fingerprints, fp)
	s.mu.Unlock()
	return s.Store.Claim(ctx, key, fp, token, lease)
}

func withAuth(r *http.Request, auth string) *http.Request {
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	return r
}

func TestMiddlewareRefusesAKeyReusedByAnotherCaller(t *testing.T) {
	next := &chargeHandler{}
	s := &fingerprintStore{Store: newStore()}
	h := idempotency.Middleware(s, idempotency.MiddlewareConfig{})(next)
	first := serve(h, withAuth(request("POST", "k", `{"amount":50}`), "Bearer alice"))
	require.Equal(t, http.StatusCreated, first.Code)

	for _, auth := range []string{"Bearer mallory", "", "Bearer alice-refreshed"} {
		w := serve(h, withAuth(request("POST", "k", `{"amount":50}`), auth))
		assert.Equal(t, http.StatusUnprocessableEntity, w.Code, "Authorization %q", auth)
		assert.NotContains(t, w.Body.String(), "charge", "never the first caller's response")
	}
	again := serve(h, withAuth(request("POST", "k", `{"amount":50}`), "Bearer alice"))
	assert.Equal(t, "true", again.Header().Get("Idempotent-Replayed"), "the same caller gets the replay")
	assert.Equal(t, first.Body.String(), again.Body.String())
	assert.Equal(t, int32(1), next.runs.Load())

	s.mu.Lock()
	defer s.mu.Unlock()
	for _, fp := range s.fingerprints {
		assert.NotContains(t, fp, "alice", "the store never sees the credentials")
	}
}

func TestMiddlewareScopedByTenantIgnoresCredentials(t *testing.T) {
	next := &chargeHandler{}
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{
		Tenant: func(r *http.Request) string { return r.Header.Get("X-Account") },
	})(next)
	post := func(account, auth string) *http.Request {
		r := withAuth(request("POST", "k", `{"amount":50}`), auth)
		r.Header.Set("X-Account", account)
		return r
	}
	serve(h, post("acme", "Bearer token-1"))
	again := serve(h, post("acme", "Bearer token-2"))
	assert.Equal(t, "true", again.Header().Get("Idempotent-Replayed"), "a refreshed token replays under the same account")
	other := serve(h, post("globex", "Bearer token-1"))
	assert.Empty(t, other.Header().Get("Idempotent-Replayed"), "another account has its own keys")
	assert.Equal(t, int32(2), next.runs.Load())
}

func TestMiddlewareCanonicalJSONFingerprintsAmbiguousBodiesByTheirBytes(t *testing.T) {
	// Each group holds different bodies that a lossy canonical form would
	// make equal; each must match only itself.
	for _, bodies := range [][]string{
		{"{\"a\":\"\xff\"}", "{\"a\":\"\xfe\"}", "{\"a\":\"\uFFFD\"}"}, // invalid UTF-8
		{`{"a":"\ud800"}`, `{"a":"\udbff"}`, `{"a":"\ufffd"}`},         // lone high surrogates
		{`{"a":"\udc00"}`, `{"a":"\udfff"}`, `{"a":"\ud800\ud800"}`},   // lone low, two highs
		{`{"a":"\ud800x"}`, `{"a":"\ud800\n"}`},                        // high then not a low
		{`{"a":1,"a":2}`, `{"a":2}`, `{"a":2,"a":1}`},                  // repeated keys
	} {
		next := &chargeHandler{}
		h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{CanonicalJSON: true})(next)
		for i, body := range bodies {
			w := serve(h, request("POST", "k"+string(rune('a'+i)), body))
			require.Equal(t, http.StatusCreated, w.Code)
			for j, other := range bodies {
				w := serve(h, request("POST", "k"+string(rune('a'+i)), other))
				if i == j {
					assert.Equal(t, "true", w.Header().Get("Idempotent-Replayed"), "%q matches itself", body)
				} else {
					assert.Equal(t, http.StatusUnprocessableEntity, w.Code, "%q does not match %q", other, body)
				}
			}
		}
	}
}

func TestMiddlewareCanonicalJSONStillMatchesEquivalentDocuments(t *testing.T) {
	for _, pair := range [][2]string{
		{`{"a":"\ud83d\ude00","b":1}`, `{ "b":1, "a":"😀" }`},                                // a surrogate pair is one character
		{`{"a":"\\ud800"}`, `{ "a" : "\\ud800" }`},                                          // an escaped backslash, not an escape
		{`{"x":[{"b":true,"a":null}],"y":"\u00e9"}`, `{"y":"é","x":[{"a":null,"b":true}]}`}, // nested objects
	} {
		next := &chargeHandler{}
		h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{CanonicalJSON: true})(next)
		serve(h, request("POST", "k", pair[0]))
		w := serve(h, request("POST", "k", pair[1]))
		assert.Equal(t, "true", w.Header().Get("Idempotent-Replayed"), "%s matches %s", pair[1], pair[0])
	}
}

func TestMiddlewareCanonicalJSONFingerprintsDeepNestingByItsBytes(t *testing.T) {
	deep := strings.Repeat("[", 600) + strings.Repeat("]", 600)
	spaced := strings.Repeat("[ ", 600) + strings.Repeat("]", 600)
	next := &chargeHandler{}
	h := idempotency.Middleware(newStore(), idempotency.MiddlewareConfig{CanonicalJSON: true})(next)
	serve(h, request("POST", "k", deep))
	assert.Equal(t, "true", serve(h, request("POST", "k", deep)).Header().Get("Idempotent-Replayed"))
	assert.Equal(t, http.StatusUnprocessableEntity, serve(h, request("POST", "k", spaced)).Code)
}

// keyStore records the key and fingerprint of every claim.
type keyStore struct {
	idempotency.Store
	mu     sync.Mutex
	claims [][2]string
}

func (s *keyStore) Claim(ctx context.Context, key, fp, token string, lease time.Duration) (idempotency.Claim, error) {
	s.mu.Lock()
	s.claims = append(s.claims, [2]string{key, fp})
	s.mu.Unlock()
	return s.Store.Claim(ctx, key, fp, token, lease)
}

// The store key and the fingerprint are kept in stores shared by replicas
// and across releases, so their bytes are fixed: a replica that computed
// them differently would answer a retry with 422 or run it again. Each is
// rebuilt here from its documented layout.
func TestMiddlewareStoreKeyAndFingerprintKeepTheirLayout(t *testing.T) {
	sum := func(s string) string { b := sha256.Sum256([]byte(s)); return string(b[:]) }
	long := strings.Repeat("k", 250)
	for _, c := range []struct {
		name, tenant, auth, key, body string
		wantKey, wantParts            string
	}{
		{name: "credentials", auth: "Bearer alice", key: "k1", body: `{"amount":50}`,
			wantKey: "0:k1", wantParts: "4:POST8:/charges12:currency=eur1:12:Bearer alice3:raw"},
		{name: "no credentials", key: "k1", body: `{"amount":50}`,
			wantKey: "0:k1", wantParts: "4:POST8:/charges12:currency=eur0:3:raw"},
		{name: "tenant", tenant: "acme", auth: "Bearer alice", key: "k1", body: `{}`,
			wantKey: "4:acmek1", wantParts: "4:POST8:/charges12:currency=eur3:raw"},
		{name: "hashed key", tenant: "acme", key: long, body: "",
			wantKey: "#" + sum("4:acme"+long), wantParts: "4:POST8:/charges12:currency=eur3:raw"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := &keyStore{Store: newStore()}
			var mc idempotency.MiddlewareConfig
			if c.tenant != "" {
				mc.Tenant = func(*http.Request) string { return c.tenant }
			}
			h := idempotency.Middleware(s, mc)(&chargeHandler{})
			serve(h, withAuth(request("POST", c.key, c.body), c.auth))
			s.mu.Lock()
			defer s.mu.Unlock()
			require.Len(t, s.claims, 1)
			assert.Equal(t, c.wantKey, s.claims[0][0])
			assert.Equal(t, sum(c.wantParts+c.body), s.claims[0][1])
		})
	}
}
