package redisstore_test

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/redisstore"
	"github.com/magicmagnets/resilience/idempotency/storetest"
)

// The tests in this file go after the record layout, one string
// "<state><fence> <token> <n> <fingerprint><lease or result>" whose prefix
// "<fence> <token> " is the lock: each checks a promise of idempotency.Store
// or of the package doc against records and arguments chosen to confuse a
// parser of that string.

// layoutStore returns a store under a prefix of its own, and the client.
func layoutStore(t *testing.T, name string, c redisstore.Config) (*redisstore.Store, *redis.Client, string) {
	t.Helper()
	client := newClient(t)
	c.Prefix = name + "-" + idempotency.NewKey() + ":"
	return redisstore.New(client, c), client, c.Prefix
}

// get returns the record under key, which must exist.
func get(t *testing.T, client *redis.Client, key string) string {
	t.Helper()
	rec, err := client.Get(t.Context(), key).Result()
	require.NoError(t, err)
	return rec
}

// A lock owns a record only when its token is the owner's. A token holding
// a space (which no Claim accepts) must not stretch over the record's
// fingerprint length and fingerprint so that the lock string it makes,
// "<fence> <token> ", matches a longer prefix of the record than the
// owner's lock does: Complete, Release and Extend return ErrLockLost for it
// and change nothing, and the owner keeps the key.
func TestALockWhoseTokenIsNotTheOwnersOwnsNothingEvenWhenItSpellsTheRecord(t *testing.T) {
	s, client, prefix := layoutStore(t, "forged", redisstore.Config{})
	ctx := t.Context()
	// A fingerprint that starts as a length field would: "3 ab" is 4 bytes.
	const fp = "3 ab"
	token := idempotency.NewToken()
	c, err := s.Claim(ctx, "k", fp, token, time.Minute)
	require.NoError(t, err)
	rec := get(t, client, prefix+"k")
	require.Equal(t, "p1 "+token+" 4 3 ab60000", rec)

	for _, bad := range []idempotency.Lock{
		{Token: token + " 4", Fence: 1},           // the record's token and length
		{Token: token + " 4 3", Fence: 1},         // and the start of its fingerprint
		{Token: token + " 4 3 ab60000", Fence: 1}, // the whole of it
		{Token: token + " ", Fence: 1},
		{Token: token + "\x00", Fence: 1},
		{Token: "", Fence: 1},
	} {
		assert.ErrorIs(t, s.Complete(ctx, "k", bad, []byte("forged"), time.Hour), idempotency.ErrLockLost, "complete %q", bad.Token)
		assert.ErrorIs(t, s.Extend(ctx, "k", bad, time.Hour), idempotency.ErrLockLost, "extend %q", bad.Token)
		assert.ErrorIs(t, s.Release(ctx, "k", bad, time.Hour), idempotency.ErrLockLost, "release %q", bad.Token)
		assert.Equal(t, rec, get(t, client, prefix+"k"), "changed nothing: %q", bad.Token)
	}

	require.NoError(t, s.Complete(ctx, "k", c.Lock, []byte("mine"), time.Hour), "the owner still owns the key")
	replay, err := s.Claim(ctx, "k", fp, idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	assert.Equal(t, idempotency.Claim{Replayed: true, Result: []byte("mine")}, replay)
}

// Tokens that are prefixes or extensions of each other, or that look like
// the record's other fields (digits like a fence, the state letters, Lua
// pattern characters), are told apart exactly: each is its own owner.
func TestTokensThatLookAlikeOrLikeTheRecordAreToldApart(t *testing.T) {
	s, _, _ := layoutStore(t, "tokens", redisstore.Config{})
	ctx := t.Context()
	groups := [][]string{
		{"a", "ab", "abc"},
		{"1", "11", "12"},
		{"p", "c", "x", "p1", "c1", "x1"},
		{"%S+", "%d", "()", "^", "%"},
		{strings.Repeat("~", idempotency.MaxTokenLen), strings.Repeat("~", idempotency.MaxTokenLen-1)},
	}
	for gi, group := range groups {
		for oi, owner := range group {
			key := "k" + strconv.Itoa(gi) + "-" + strconv.Itoa(oi)
			c, err := s.Claim(ctx, key, "fp", owner, time.Minute)
			require.NoError(t, err, "owner %q", owner)
			again, err := s.Claim(ctx, key, "fp", owner, time.Minute)
			require.NoError(t, err, "owner %q claims again", owner)
			assert.Equal(t, c.Lock, again.Lock, "the owner's own record: same lock")
			for _, other := range group {
				if other == owner {
					continue
				}
				_, err := s.Claim(ctx, key, "fp", other, time.Minute)
				assert.ErrorIs(t, err, idempotency.ErrInProgress, "owner %q, claimer %q", owner, other)
				lock := idempotency.Lock{Token: other, Fence: c.Lock.Fence}
				assert.ErrorIs(t, s.Extend(ctx, key, lock, time.Minute), idempotency.ErrLockLost, "owner %q, lock %q", owner, other)
				assert.ErrorIs(t, s.Complete(ctx, key, lock, []byte("x"), time.Hour), idempotency.ErrLockLost, "owner %q, lock %q", owner, other)
				assert.ErrorIs(t, s.Release(ctx, key, lock, time.Hour), idempotency.ErrLockLost, "owner %q, lock %q", owner, other)
			}
			require.NoError(t, s.Complete(ctx, key, c.Lock, []byte(owner), time.Hour), "owner %q", owner)
			replay, err := s.Claim(ctx, key, "fp", group[(oi+1)%len(group)], time.Minute)
			require.NoError(t, err)
			assert.Equal(t, idempotency.Claim{Replayed: true, Result: []byte(owner)}, replay)
		}
	}
}

// A fingerprint that ends in digits runs into the lease that follows it in
// an in-progress record; the lease read back (InProgressError.Remaining)
// is still the one granted, and fingerprints that differ only by where
// that boundary falls are mismatches.
func TestAFingerprintEndingInDigitsDoesNotChangeTheLease(t *testing.T) {
	s, _, _ := layoutStore(t, "digits", redisstore.Config{})
	ctx := t.Context()
	for i, fp := range []string{"", "0", "12", "60000", "1 2 ", " 9"} {
		key := "k" + strconv.Itoa(i)
		c, err := s.Claim(ctx, key, fp, idempotency.NewToken(), time.Minute)
		require.NoError(t, err, "%q", fp)
		requireRemaining(t, s, key, fp, 59*time.Second, time.Minute)
		for _, other := range []string{fp + "6", fp + "0", "6" + fp, fp + " "} {
			_, err := s.Claim(ctx, key, other, idempotency.NewToken(), time.Minute)
			assert.ErrorIs(t, err, idempotency.ErrMismatch, "record %q, claim %q", fp, other)
		}
		if fp != "" {
			_, err := s.Claim(ctx, key, fp[:len(fp)-1], idempotency.NewToken(), time.Minute)
			assert.ErrorIs(t, err, idempotency.ErrMismatch, "record %q, claim of its prefix", fp)
		}
		require.NoError(t, s.Extend(ctx, key, c.Lock, 90*time.Second))
		requireRemaining(t, s, key, fp, 89*time.Second, 90*time.Second)

		// Completed, the fingerprint runs into a result of digits.
		result := []byte("4 " + fp + "60000")
		require.NoError(t, s.Complete(ctx, key, c.Lock, result, time.Hour))
		replay, err := s.Claim(ctx, key, fp, idempotency.NewToken(), time.Minute)
		require.NoError(t, err)
		assert.Equal(t, idempotency.Claim{Replayed: true, Result: result}, replay, "%q", fp)
		for _, other := range []string{fp + "4", fp + "0", "6" + fp, fp + " "} {
			_, err := s.Claim(ctx, key, other, idempotency.NewToken(), time.Minute)
			assert.ErrorIs(t, err, idempotency.ErrMismatch, "completed %q, claim %q", fp, other)
		}
	}
}

// Over RESP2 (a client with Protocol 2, as older servers and proxies
// speak) the scripts' replies have the same shapes, and the store passes
// the contract suite as over RESP3, go-redis's default.
func TestStorePassesTheContractSuiteOverRESP2(t *testing.T) {
	opts, err := redis.ParseURL(redisURL(t))
	require.NoError(t, err)
	opts.ContextTimeoutEnabled = true
	opts.Protocol = 2
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	hello, err := client.Do(t.Context(), "HELLO").Result()
	require.NoError(t, err)
	require.IsType(t, []any{}, hello, "a RESP2 connection answers HELLO with an array, not a map")
	storetest.Run(t, func(*testing.T) idempotency.Store {
		return redisstore.New(client, redisstore.Config{Prefix: "resp2:" + idempotency.NewKey() + ":"})
	})
}

// requireRemaining claims key with fp under a new token and requires an
// InProgressError whose Remaining is in [lo, hi].
func requireRemaining(t *testing.T, s *redisstore.Store, key, fp string, lo, hi time.Duration) {
	t.Helper()
	_, err := s.Claim(t.Context(), key, fp, idempotency.NewToken(), time.Minute)
	var ip *idempotency.InProgressError
	require.ErrorAs(t, err, &ip, "fingerprint %q", fp)
	assert.GreaterOrEqual(t, ip.Remaining, lo, "fingerprint %q", fp)
	assert.LessOrEqual(t, ip.Remaining, hi, "fingerprint %q", fp)
}

// Fingerprints and results of megabytes, made of the record's own syntax
// (spaces, digits, state letters, NUL, CR LF), round-trip exactly, and a
// fingerprint that differs from the record's in its last byte, or by one
// byte more or less, is a mismatch in progress and once completed.
func TestMegabyteFingerprintsAndResultsThatLookLikeRecords(t *testing.T) {
	const limit = 2 << 20
	s, _, _ := layoutStore(t, "large", redisstore.Config{MaxResultSize: limit})
	ctx := t.Context()
	token := idempotency.NewToken()
	chunk := "p1 " + token + " 9 \x00\r\n60000c2 " + token + " 0 x3 t "
	fp := strings.Repeat(chunk, (3<<20)/len(chunk)+1)
	unit := "c1 " + token + " 4 fp\x00\r\n"
	result := []byte(strings.Repeat(unit, limit/len(unit)+1)[:limit])
	mismatches := []string{fp[:len(fp)-1], fp + "0", fp[:len(fp)-1] + "!", "!" + fp[1:], fp[:len(fp)/2]}

	c, err := s.Claim(ctx, "k", fp, token, time.Minute)
	require.NoError(t, err)
	again, err := s.Claim(ctx, "k", fp, token, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, c.Lock, again.Lock)
	requireRemaining(t, s, "k", fp, 59*time.Second, time.Minute)
	for _, other := range mismatches {
		_, err := s.Claim(ctx, "k", other, idempotency.NewToken(), time.Minute)
		assert.ErrorIs(t, err, idempotency.ErrMismatch, "in progress, a %d-byte fingerprint", len(other))
	}
	require.NoError(t, s.Complete(ctx, "k", c.Lock, result, time.Hour))
	require.NoError(t, s.Complete(ctx, "k", c.Lock, result, time.Hour), "a re-sent Complete")
	replay, err := s.Claim(ctx, "k", fp, idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	require.True(t, replay.Replayed)
	assert.True(t, bytes.Equal(result, replay.Result), "the result round-trips: %d bytes back of %d", len(replay.Result), len(result))
	for _, other := range mismatches {
		_, err := s.Claim(ctx, "k", other, idempotency.NewToken(), time.Minute)
		assert.ErrorIs(t, err, idempotency.ErrMismatch, "completed, a %d-byte fingerprint", len(other))
	}
}

// Fences are decimal in the record, and the claim script adds one in Lua,
// whose numbers are doubles: exact up to 2^53 − 1. Up to there a takeover
// takes exactly the next fence (and the lock it returns completes); past
// it, where a double cannot tell n from n + 1, a claim is an error that
// leaves the record alone, never a fence that is not higher than the
// record's or a lock that does not match the record.
func TestFencesUpToTwoToThe53AreExactAndBeyondAreRefused(t *testing.T) {
	s, client, prefix := layoutStore(t, "fence", redisstore.Config{})
	ctx := t.Context()
	const maxExact = 1<<53 - 1
	for _, fence := range []int64{1<<31 - 1, 1 << 32, 1<<40 + 7, maxExact - 1} {
		key := "k" + strconv.FormatInt(fence, 10)
		require.NoError(t, client.Set(ctx, prefix+key, "x"+strconv.FormatInt(fence, 10)+" old ", time.Hour).Err())
		token := idempotency.NewToken()
		c, err := s.Claim(ctx, key, "fp", token, time.Minute)
		require.NoError(t, err, "released at fence %d", fence)
		require.Equal(t, idempotency.Lock{Token: token, Fence: fence + 1}, c.Lock, "the next fence after %d", fence)
		again, err := s.Claim(ctx, key, "fp", token, time.Minute)
		require.NoError(t, err)
		assert.Equal(t, c.Lock, again.Lock, "a re-sent claim at fence %d", fence+1)
		require.NoError(t, s.Extend(ctx, key, c.Lock, time.Minute))
		require.NoError(t, s.Complete(ctx, key, c.Lock, []byte("r"), time.Hour), "the lock of fence %d matches its record", fence+1)
		replay, err := s.Claim(ctx, key, "fp", idempotency.NewToken(), time.Minute)
		require.NoError(t, err)
		assert.Equal(t, []byte("r"), replay.Result)
	}

	// Records whose fence leaves no exact next one: released, completed
	// past retention, in progress past its lease, and in progress under
	// the claimer's own token (whose fence a double cannot return).
	token := idempotency.NewToken()
	for i, fence := range []string{"9007199254740991", "9007199254740992", "9007199254740993", "18446744073709551617", strings.Repeat("9", 400)} {
		records := map[string]string{
			"released": "x" + fence + " old ",
			"expired":  "p" + fence + " old 2 fp60000",
			"done":     "c" + fence + " old 2 fpr",
		}
		if fence != "9007199254740991" { // 2^53 − 1 itself is exact
			records["mine"] = "p" + fence + " " + token + " 2 fp60000"
		}
		for name, rec := range records {
			key := name + strconv.Itoa(i)
			ttl := 2 * time.Minute
			if name != "mine" {
				ttl = time.Minute // past the lease of the in-progress record
			}
			require.NoError(t, client.Set(ctx, prefix+key, rec, ttl).Err())
			if name == "done" {
				require.NoError(t, client.Persist(ctx, prefix+key).Err()) // past its retention
			}
			c, err := s.Claim(ctx, key, "fp", token, time.Minute)
			assert.Error(t, err, "%s at fence %s: got %+v", name, fence, c)
			assert.ErrorContains(t, err, "redisstore: claim", "%s at fence %s", name, fence)
			assert.ErrorContains(t, err, "fence out of range", "%s at fence %s", name, fence)
			assert.Equal(t, rec, get(t, client, prefix+key), "%s at fence %s: left as it was", name, fence)
		}
	}

	// 2^53 − 1 is the last fence: its owner claims it again and completes.
	require.NoError(t, client.Set(ctx, prefix+"last", "p9007199254740991 "+token+" 2 fp60000", 2*time.Minute).Err())
	c, err := s.Claim(ctx, "last", "fp", token, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, idempotency.Lock{Token: token, Fence: maxExact}, c.Lock)
	require.NoError(t, s.Complete(ctx, "last", c.Lock, []byte("r"), time.Hour))
}

// A key of MaxKeyLen bytes, of any bytes, under a prefix, is one Redis key
// of the prefix and the key, and holds a record like any other.
func TestALongestBinaryKeyIsTheRedisKeyAfterThePrefix(t *testing.T) {
	s, client, prefix := layoutStore(t, "longkey", redisstore.Config{})
	ctx := t.Context()
	key := strings.Repeat("\x00 p1 x 3 \r\n\xff", idempotency.MaxKeyLen)[:idempotency.MaxKeyLen]
	token := idempotency.NewToken()
	c, err := s.Claim(ctx, key, "fp", token, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, "p1 "+token+" 2 fp60000", get(t, client, prefix+key))
	require.NoError(t, s.Complete(ctx, key, c.Lock, []byte("r"), time.Hour))
	assert.Equal(t, "c1 "+token+" 2 fpr", get(t, client, prefix+key))
	n, err := client.Exists(ctx, prefix+key[:len(key)-1]).Result()
	require.NoError(t, err)
	assert.Zero(t, n, "no key but the one")
}

// A key holding another Redis type is refused by every method with Redis's
// WRONGTYPE error, and left as it was: the store runs nothing on a key
// whose record it cannot read.
func TestKeysOfOtherTypesAreRefusedAndLeftAlone(t *testing.T) {
	s, client, prefix := layoutStore(t, "types", redisstore.Config{})
	ctx := t.Context()
	require.NoError(t, client.RPush(ctx, prefix+"list", "p1 tok 2 fp60000").Err())
	require.NoError(t, client.SAdd(ctx, prefix+"set", "c1 tok 2 fpr").Err())
	require.NoError(t, client.ZAdd(ctx, prefix+"zset", redis.Z{Score: 1, Member: "x1 tok "}).Err())
	require.NoError(t, client.XAdd(ctx, &redis.XAddArgs{Stream: prefix + "stream", Values: []string{"s", "p"}}).Err())
	types := map[string]string{"list": "list", "set": "set", "zset": "zset", "stream": "stream"}
	lock := idempotency.Lock{Token: "tok", Fence: 1}
	for key, typ := range types {
		_, err := s.Claim(ctx, key, "fp", "tok", time.Minute)
		assert.ErrorContains(t, err, "WRONGTYPE", key)
		assert.ErrorContains(t, s.Complete(ctx, key, lock, []byte("r"), time.Minute), "WRONGTYPE", key)
		assert.ErrorContains(t, s.Extend(ctx, key, lock, time.Minute), "WRONGTYPE", key)
		assert.ErrorContains(t, s.Release(ctx, key, lock, time.Minute), "WRONGTYPE", key)
		got, err := client.Type(ctx, prefix+key).Result()
		require.NoError(t, err)
		assert.Equal(t, typ, got, key)
		ttl, err := client.PTTL(ctx, prefix+key).Result()
		require.NoError(t, err)
		assert.Equal(t, time.Duration(-1), ttl, "%s: no TTL set on it", key)
	}
}

// Strings that are not records the store wrote, including ones that start
// like a record, make Claim an error and are left as they were; the
// compare-and-set methods, given the lock the string seems to hold, either
// return an error or ErrLockLost, and leave it too (Release only needs the
// lock prefix, so it is not asked here; a string that starts as a record
// completed under the lock is answered as a re-send, with nil).
func TestGarbledRecordsAreErrorsAndAreNotOverwritten(t *testing.T) {
	s, client, prefix := layoutStore(t, "garbled", redisstore.Config{})
	ctx := t.Context()
	lock := idempotency.Lock{Token: "tok", Fence: 1}
	for _, rec := range []string{
		"x", "p", "c", "5", "x1", "x1 tok", "p1 tok ", "c1 tok ", "pp1 tok 2 fp1",
		"p-1 tok 2 fp60000", "p1  2 fp60000", "p1 tok 3 ab", "p1 tok 2 fpxyz", "p1 tok 2 fp",
		"c1 tok 99999999999 fp", "c1 tok -1 fp", "c1 tok +2 fp", "c1 tok 2", "\x00p1 tok 2 fp60000",
		"p1 tok 2\nfp60000", "p1\ttok 2 fp60000",
	} {
		require.NoError(t, client.Set(ctx, prefix+"k", rec, time.Minute).Err())
		c, err := s.Claim(ctx, "k", "fp", idempotency.NewToken(), time.Minute)
		assert.ErrorContains(t, err, "redisstore: claim", "%q: got %+v", rec, c)
		if rec[0] == 'c' { // live: returned as it is, and refused by the store
			assert.ErrorContains(t, err, "unexpected reply", "%q", rec)
		} else {
			assert.ErrorContains(t, err, "redisstore: malformed record", "%q", rec)
		}
		assert.NotErrorIs(t, err, idempotency.ErrInProgress, "%q", rec)
		assert.NotErrorIs(t, err, idempotency.ErrMismatch, "%q", rec)
		assert.Equal(t, rec, get(t, client, prefix+"k"), "%q: left as it was by Claim", rec)
		if strings.HasPrefix(rec, "p1 tok 2 fp") || strings.HasPrefix(rec, "p1 tok 3 ") {
			continue // a lock-holder may complete or extend what it can read of its own record
		}
		for op, err := range map[string]error{
			"complete": s.Complete(ctx, "k", lock, []byte("r"), time.Hour),
			"extend":   s.Extend(ctx, "k", lock, time.Minute),
		} {
			if !strings.HasPrefix(rec, "c1 tok ") {
				assert.Error(t, err, "%s %q", op, rec)
			}
			assert.Equal(t, rec, get(t, client, prefix+"k"), "%q: left as it was by %s", rec, op)
		}
	}
}

// Complete and Release re-sent after a lost reply succeed and change
// nothing, and a lock of an earlier fence, under the same token, owns
// nothing after the same token took the key over with the next fence.
func TestTheLockIsTheFenceAndTheTokenTogether(t *testing.T) {
	s, client, prefix := layoutStore(t, "lock", redisstore.Config{})
	ctx := t.Context()
	token := idempotency.NewToken()
	first, err := s.Claim(ctx, "k", "fp", token, time.Minute)
	require.NoError(t, err)
	require.NoError(t, s.Release(ctx, "k", first.Lock, time.Hour))
	released := get(t, client, prefix+"k")
	assert.Equal(t, "x1 "+token+" ", released)
	require.NoError(t, s.Release(ctx, "k", first.Lock, time.Hour), "a re-sent Release")
	assert.Equal(t, released, get(t, client, prefix+"k"))
	assert.ErrorIs(t, s.Complete(ctx, "k", first.Lock, []byte("r"), time.Hour), idempotency.ErrLockLost, "released")
	assert.ErrorIs(t, s.Extend(ctx, "k", first.Lock, time.Minute), idempotency.ErrLockLost, "released")

	// Take the key over with the same token nine times, to fence 10.
	var c idempotency.Claim
	for range 9 {
		c, err = s.Claim(ctx, "k", "fp", token, time.Minute)
		require.NoError(t, err)
		require.NoError(t, s.Release(ctx, "k", c.Lock, time.Hour))
	}
	require.Equal(t, int64(10), c.Lock.Fence)
	c, err = s.Claim(ctx, "k", "fp", token, time.Minute)
	require.NoError(t, err)
	require.Equal(t, idempotency.Lock{Token: token, Fence: 11}, c.Lock)
	for _, stale := range []int64{1, 10, 110, 111} {
		lock := idempotency.Lock{Token: token, Fence: stale}
		assert.ErrorIs(t, s.Complete(ctx, "k", lock, []byte("r"), time.Hour), idempotency.ErrLockLost, "fence %d", stale)
		assert.ErrorIs(t, s.Extend(ctx, "k", lock, time.Minute), idempotency.ErrLockLost, "fence %d", stale)
		assert.ErrorIs(t, s.Release(ctx, "k", lock, time.Hour), idempotency.ErrLockLost, "fence %d", stale)
	}
	require.NoError(t, s.Complete(ctx, "k", c.Lock, []byte("r"), time.Hour))
	done := get(t, client, prefix+"k")
	require.NoError(t, s.Complete(ctx, "k", c.Lock, []byte("other"), time.Hour), "a re-sent Complete")
	assert.Equal(t, done, get(t, client, prefix+"k"), "a re-sent Complete changes nothing")
	assert.ErrorIs(t, s.Release(ctx, "k", c.Lock, time.Hour), idempotency.ErrLockLost, "completed")
	require.NoError(t, s.Extend(ctx, "k", c.Lock, time.Minute), "an Extend that crossed the Complete")
	assert.Equal(t, done, get(t, client, prefix+"k"))
}

// Owners whose leases run out while they work race each other's takeovers
// with Extend and Complete: every fence is held by one token only and the
// fences a key hands out are 1, 2, 3 and on (claimers poll far more often
// than the 2×lease an in-progress key lives, so the key is never dropped),
// exactly one Complete succeeds, and every later claim replays that
// owner's result.
func TestCompletesRacingTakeoversLeaveOneResult(t *testing.T) {
	s, _, _ := layoutStore(t, "race", redisstore.Config{})
	ctx := t.Context()
	const owners, keys, lease = 8, 4, 100 * time.Millisecond
	takeovers := 0
	for k := range keys {
		key := "k" + strconv.Itoa(k)
		var (
			mu      sync.Mutex
			byFence = map[int64]string{}
			won     []string
		)
		var wg sync.WaitGroup
		for o := range owners {
			wg.Go(func() {
				for i := 0; ; i++ {
					token := idempotency.NewToken()
					c, err := s.Claim(ctx, key, "fp", token, lease)
					if errors.Is(err, idempotency.ErrInProgress) {
						time.Sleep(time.Millisecond)
						continue
					}
					if !assert.NoError(t, err) || c.Replayed {
						return
					}
					mu.Lock()
					assert.NotContains(t, byFence, c.Lock.Fence, "fence %d handed out twice", c.Lock.Fence)
					byFence[c.Lock.Fence] = token
					mu.Unlock()
					// An owner of an odd fence works for its whole lease,
					// and k/8 of a lease more on key k: on the first key
					// its Extend and Complete race the takeover, on the
					// others they come after it.
					if c.Lock.Fence%2 == 1 {
						time.Sleep(lease + time.Duration(k)*lease/8)
					}
					if err := s.Extend(ctx, key, c.Lock, lease); err != nil {
						assert.ErrorIs(t, err, idempotency.ErrLockLost)
					}
					time.Sleep(time.Duration((o+i)%3) * time.Millisecond)
					err = s.Complete(ctx, key, c.Lock, []byte(token), time.Hour)
					if err == nil {
						mu.Lock()
						won = append(won, token)
						mu.Unlock()
						return
					}
					assert.ErrorIs(t, err, idempotency.ErrLockLost)
				}
			})
		}
		wg.Wait()
		require.Len(t, won, 1, "%s: one Complete succeeds; %d fences were handed out", key, len(byFence))
		takeovers += len(byFence) - 1
		for f := int64(1); f <= int64(len(byFence)); f++ {
			assert.Contains(t, byFence, f, "%s: the fences are 1 to %d", key, len(byFence))
		}
		replay, err := s.Claim(ctx, key, "fp", idempotency.NewToken(), time.Minute)
		require.NoError(t, err)
		assert.Equal(t, idempotency.Claim{Replayed: true, Result: []byte(won[0])}, replay)
	}
	assert.GreaterOrEqual(t, takeovers, keys-1, "the owner of fence 1 of each key but the first is taken over")
	t.Logf("%d takeovers over %d keys", takeovers, keys)
}
