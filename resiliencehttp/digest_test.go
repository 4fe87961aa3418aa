package resiliencehttp_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/resiliencehttp"
	"github.com/magicmagnets/resilience/resiliencetest"
)

func TestContentDigestFollowsRFC9530(t *testing.T) {
	// SHA-256 of "hello", base64-encoded.
	assert.Equal(t, "sha-256=:LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=:", resiliencehttp.ContentDigest([]byte("hello")))
}

func TestVerifyDigestAcceptsAMatchingBody(t *testing.T) {
	h := http.Header{}
	h.Set(resiliencehttp.DigestHeader, "sha-512=:AAAA:, "+resiliencehttp.ContentDigest([]byte("hello")))
	assert.NoError(t, resiliencehttp.VerifyDigest(h, []byte("hello")))
}

func TestVerifyDigestFindsTheMemberOnAnyHeaderLine(t *testing.T) {
	h := http.Header{}
	h.Add(resiliencehttp.DigestHeader, "sha-512=:AAAA:")
	h.Add(resiliencehttp.DigestHeader, resiliencehttp.ContentDigest([]byte("hello")))
	assert.NoError(t, resiliencehttp.VerifyDigest(h, []byte("hello")))
}

func TestVerifyDigestRejectsADifferentBody(t *testing.T) {
	h := http.Header{}
	h.Set(resiliencehttp.DigestHeader, resiliencehttp.ContentDigest([]byte("hello")))
	assert.ErrorIs(t, resiliencehttp.VerifyDigest(h, []byte("hellO")), resiliencehttp.ErrDigestMismatch)
	assert.ErrorIs(t, resiliencehttp.VerifyDigest(h, []byte("hell")), resiliencehttp.ErrDigestMismatch)
}

func TestVerifyDigestReportsAMissingOrMalformedDigest(t *testing.T) {
	assert.ErrorIs(t, resiliencehttp.VerifyDigest(http.Header{}, nil), resiliencehttp.ErrDigestMissing)
	for _, v := range []string{
		"sha-256=notbase64",
		"sha-256=:!!!:",
		"sha-256=:AAAA:", // decodes, but not to 32 bytes
		"sha-512=:" + resiliencehttp.ContentDigest(nil)[len("sha-256=:"):],
	} {
		h := http.Header{}
		h.Set(resiliencehttp.DigestHeader, v)
		assert.ErrorIs(t, resiliencehttp.VerifyDigest(h, nil), resiliencehttp.ErrDigestMissing, "%q", v)
	}
}

// A server fault that vouches for a wrong body is caught; a response sent as
// written passes.
func TestVerifyDigestCatchesAFaultyHandlersWrongDigest(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, `{"amount":100}`) })
	srv := httptest.NewServer(resiliencetest.FaultyHandler(ok, resiliencetest.HandlerConfig{
		Digest: true,
		Script: []resiliencetest.HTTPFault{resiliencetest.WrongDigest(), resiliencetest.Truncate(5)},
	}))
	defer srv.Close()
	get := func() error {
		resp, err := srv.Client().Get(srv.URL)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resiliencehttp.VerifyDigest(resp.Header, body)
	}
	assert.ErrorIs(t, get(), resiliencehttp.ErrDigestMismatch, "wrong digest")
	assert.ErrorIs(t, get(), resiliencehttp.ErrDigestMismatch, "truncated body")
	assert.NoError(t, get())
}

func ExampleVerifyDigest() {
	body := []byte(`{"amount":100}`)
	h := http.Header{}
	h.Set(resiliencehttp.DigestHeader, resiliencehttp.ContentDigest(body))
	fmt.Println(resiliencehttp.VerifyDigest(h, body))
	fmt.Println(resiliencehttp.VerifyDigest(h, body[:8]))
	// Output:
	// <nil>
	// resiliencehttp: content digest mismatch
}
