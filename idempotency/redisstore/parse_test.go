package redisstore

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
)

func TestMalformedClaimRepliesAreErrorsNotPanics(t *testing.T) {
	for _, reply := range [][]any{
		nil,
		{},
		{nil},
		{int64(1)},
		{"a"},
		{"a", "1"},
		{"a", int64(0)},
		{"a", int64(1), int64(2)},
		{"r"},
		{"r", int64(5)},
		{"p", int64(0)},
		{"p", "10"},
		{"m", int64(1)},
		{"?", int64(1)},
		{"r", ""},                // a replay's record is a bare string
		{"a", int64(7)},          // an acquired lock is a bare fence
		{"c1 t 2 fpr", int64(1)}, // so is a completed record
	} {
		assert.NotPanics(t, func() {
			_, err := parseClaim(reply, "fp", "token")
			assert.ErrorContains(t, err, "redisstore: claim: unexpected reply", "%#v", reply)
		})
	}
	for _, reply := range []any{
		nil, int64(0), int64(-3), 7, "7", []byte("c1 t 2 fpr"),
		"", "c", "c1", "c1 t", "c1 t 2", "c1 t 3 fp", "c t 2 fp", "c1  2 fp", "c1 t  fp", "c1 t -1 fp", "c1 t x fp",
		"c1 t 99999999999999999999 fp", "p1 t 2 fp60000", "x1 t ",
	} {
		assert.NotPanics(t, func() {
			_, err := parseClaim(reply, "fp", "token")
			assert.ErrorContains(t, err, "redisstore: claim: unexpected reply", "%#v", reply)
		})
	}
}

func TestWellFormedClaimRepliesAreParsed(t *testing.T) {
	c, err := parseClaim(int64(7), "fp", "tok")
	require.NoError(t, err)
	assert.Equal(t, idempotency.Claim{Lock: idempotency.Lock{Token: "tok", Fence: 7}}, c)
	c, err = parseClaim("c3 other-token 2 fp", "fp", "tok")
	require.NoError(t, err)
	assert.True(t, c.Replayed)
	assert.Empty(t, c.Result)
	c, err = parseClaim("c3 other-token 2 fpresult", "fp", "tok")
	require.NoError(t, err)
	assert.Equal(t, idempotency.Claim{Replayed: true, Result: []byte("result")}, c)
	c, err = parseClaim("c3 t 0 2 fp", "", "tok")
	require.NoError(t, err)
	assert.Equal(t, idempotency.Claim{Replayed: true, Result: []byte("2 fp")}, c, "an empty fingerprint")
	c, err = parseClaim("c3 t 5 f p \x00r e", "f p \x00", "tok")
	require.NoError(t, err)
	assert.Equal(t, idempotency.Claim{Replayed: true, Result: []byte("r e")}, c, "a fingerprint of any bytes")
	for _, fp := range []string{"", "f", "fpr", "fq"} {
		_, err = parseClaim("c3 t 2 fpr", fp, "tok")
		assert.ErrorIs(t, err, idempotency.ErrMismatch, "%q", fp)
	}
	_, err = parseClaim([]any{"m"}, "fp", "tok")
	assert.ErrorIs(t, err, idempotency.ErrMismatch)
	_, err = parseClaim([]any{"p", int64(1500)}, "fp", "tok")
	var ip *idempotency.InProgressError
	require.ErrorAs(t, err, &ip)
	assert.Equal(t, int64(1500), ip.Remaining.Milliseconds())
}

func TestMalformedCompareAndSetRepliesAreErrors(t *testing.T) {
	assert.NoError(t, parseOwned("complete", int64(1), nil))
	assert.ErrorIs(t, parseOwned("complete", int64(0), nil), idempotency.ErrLockLost)
	for _, reply := range []any{nil, int64(2), int64(-1), "1", []any{int64(1)}} {
		err := parseOwned("extend", reply, nil)
		assert.ErrorContains(t, err, "redisstore: extend: unexpected reply", "%#v", reply)
		assert.NotErrorIs(t, err, idempotency.ErrLockLost)
	}
	cause := errors.New("connection reset")
	assert.ErrorIs(t, parseOwned("release", nil, cause), cause)
}
