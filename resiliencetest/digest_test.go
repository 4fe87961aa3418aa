package resiliencetest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/magicmagnets/resilience/resiliencetest"
)

func TestContentDigestFollowsRFC9530(t *testing.T) {
	// SHA-256 of "hello", base64-encoded.
	assert.Equal(t, "sha-256=:LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=:", resiliencetest.ContentDigest([]byte("hello")))
}

func TestVerifyDigestAcceptsAMatchingBody(t *testing.T) {
	h := http.Header{}
	h.Set(resiliencetest.DigestHeader, "sha-512=:AAAA:, "+resiliencetest.ContentDigest([]byte("hello")))
	assert.NoError(t, resiliencetest.VerifyDigest(h, []byte("hello")))
}

func TestVerifyDigestRejectsADifferentBody(t *testing.T) {
	h := http.Header{}
	h.Set(resiliencetest.DigestHeader, resiliencetest.ContentDigest([]byte("hello")))
	assert.ErrorIs(t, resiliencetest.VerifyDigest(h, []byte("hellO")), resiliencetest.ErrDigestMismatch)
}

func TestVerifyDigestReportsAMissingDigest(t *testing.T) {
	assert.ErrorIs(t, resiliencetest.VerifyDigest(http.Header{}, nil), resiliencetest.ErrDigestMissing)
	h := http.Header{}
	h.Set(resiliencetest.DigestHeader, "sha-256=notbase64")
	assert.ErrorIs(t, resiliencetest.VerifyDigest(h, nil), resiliencetest.ErrDigestMissing)
}
