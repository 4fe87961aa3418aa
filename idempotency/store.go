package idempotency

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// MaxKeyLen is the longest key, in bytes, that a [Store] accepts.
const MaxKeyLen = 255

// MaxTokenLen is the longest owner token, in bytes, that a [Store] accepts.
const MaxTokenLen = 64

// DefaultMaxResultSize is the largest result, in bytes, that a store accepts
// unless configured otherwise: 1 MiB.
const DefaultMaxResultSize = 1 << 20

// Errors returned by stores. Each is matched with errors.Is; a store may wrap
// them with detail.
var (
	// ErrInvalidKey: the key is empty or longer than MaxKeyLen bytes. Nothing
	// was stored.
	ErrInvalidKey = errors.New("idempotency: invalid key")

	// ErrInvalidDuration: a lease or retention was zero or negative. Nothing
	// was stored.
	ErrInvalidDuration = errors.New("idempotency: lease and retention must be positive")

	// ErrInProgress: another owner holds a live lease on the key. The error
	// returned by Claim also matches *InProgressError, which says how long
	// the lease has left.
	ErrInProgress = errors.New("idempotency: operation in progress")

	// ErrMismatch: the key is in use (in progress or completed) with a
	// different fingerprint, that is for a different request.
	ErrMismatch = errors.New("idempotency: key reused with a different request")

	// ErrLockLost: the lock passed to Complete, Release or Extend no longer
	// owns the record (someone took it over, or it was released, completed
	// or removed). The call changed nothing.
	ErrLockLost = errors.New("idempotency: lock lost")

	// ErrResultTooLarge: the result passed to Complete is larger than the
	// store's limit. The call changed nothing: the key stays in progress
	// under the lock, so the owner can record something smaller (Do and
	// Middleware record a placeholder that replays as an error).
	ErrResultTooLarge = errors.New("idempotency: result too large")

	// ErrInvalidToken: the owner token passed to Claim is empty or longer
	// than MaxTokenLen bytes, or not printable ASCII. Nothing was stored.
	ErrInvalidToken = errors.New("idempotency: invalid owner token")

	// ErrStoreFull: a bounded store has no room for a new record and none it
	// may evict (every record is in progress).
	ErrStoreFull = errors.New("idempotency: store full")
)

// InProgressError is the error Claim returns for a key whose record is in
// progress under a live lease with the same fingerprint. It matches
// [ErrInProgress].
type InProgressError struct {
	// Remaining is how long the current owner's lease has left (> 0). The
	// owner may extend it or complete before then.
	Remaining time.Duration
}

// Error implements error.
func (e *InProgressError) Error() string {
	return fmt.Sprintf("%s (lease ends in %v)", ErrInProgress.Error(), e.Remaining)
}

// Is reports whether target is ErrInProgress.
func (e *InProgressError) Is(target error) bool { return target == ErrInProgress }

// RetryAfter returns Remaining: the earliest time a claim could take the key
// over, and a sensible delay before asking again.
func (e *InProgressError) RetryAfter() time.Duration { return e.Remaining }

// Lock identifies one owner's hold on a key. It is returned by a successful
// Claim and passed back to Complete, Release and Extend.
type Lock struct {
	// Token is the owner token the claimer chose ([NewToken]): unique to
	// one claim, so that a store can tell a re-sent command of the owner
	// from another owner's.
	Token string
	// Fence is the fencing counter: 1 for a key the store holds nothing
	// of, and one more than the previous holder's fence when a claim takes
	// over an expired record or claims a released one. Fences of a key
	// strictly increase for at least the retention of its last record, so
	// downstream systems may reject writes carrying a fence lower than one
	// they have seen.
	Fence int64
}

// Claim is the outcome of a successful [Store.Claim]: either the key was
// acquired (Lock is set, Replayed is false) or it was already completed with
// the same fingerprint (Replayed is true, Result holds the stored result and
// Lock is zero).
type Claim struct {
	Lock     Lock
	Replayed bool
	// Result is the completed operation's stored bytes when Replayed. It may
	// be shared with the store and must not be modified.
	Result []byte
}

// Store keeps idempotency records. Each key is in one of four states:
// ABSENT, IN_PROGRESS (owner token, fence, fingerprint, lease deadline),
// COMPLETED (result, fingerprint, owner token, fence, retention deadline) or
// RELEASED (owner token and fence, kept for a retention so that the next
// claim's fence is higher; it counts as ABSENT for Claim). Every method is
// atomic with respect to the others, across every process sharing the
// store, and safe for concurrent use.
//
// Re-sends. Every method is idempotent under re-sends: a client library
// that sends a command again after a dropped connection (go-redis does, up
// to three times by default) gets the answer the first send would have had.
// That is why the claimer chooses the owner token: a re-sent Claim finds its
// own IN_PROGRESS record and acquires it again (same lock, lease renewed); a
// re-sent Complete finds the record COMPLETED under its own lock and
// succeeds without changing it; a re-sent Release finds it RELEASED under
// its own lock and succeeds. The same rule lets a claimer whose reply was
// lost claim again with the same token and own the key at once, instead of
// leaving an orphan that answers "in progress" for a whole lease.
//
// Time. Deadlines come from the store's own clock (the Go process's for the
// memory store, the server's for Redis and PostgreSQL). A lease or retention
// of d granted at time t has deadline D = t + d; the record is live while
// now < D and expired from now ≥ D on. An expired IN_PROGRESS record, a
// COMPLETED record past retention and a RELEASED record count as ABSENT for
// Claim. A store keeps an expired IN_PROGRESS record, unless it is taken
// over, for at least one more lease length (until twice the lease after the
// last claim or extend), so that a late Complete or Release and the next
// owner's fence still work; a bounded store that is full may drop it sooner.
// Stores round deadlines to their clock's resolution (a millisecond for
// Redis), never more.
//
// Validation. Keys are 1 to MaxKeyLen bytes of any value (binary and NUL
// included); fingerprints are any bytes, compared exactly; tokens are 1 to
// MaxTokenLen bytes of printable ASCII. Every method checks its key with [ValidateKey], Claim
// its token with [ValidateToken], and every method its duration with
// [ValidateDuration], before the store is touched. A done ctx may make a
// method return ctx's error; the store is then left either unchanged or
// changed as if the call had succeeded. A store bounds every call it makes
// to its server with a timeout of its own, so that a link that goes silent
// cannot hold a caller for longer than that.
type Store interface {
	// Claim tries to make token the owner of key:
	//
	//   - ABSENT, RELEASED or expired: the record becomes IN_PROGRESS with
	//     the given fingerprint and token, a lease of lease, and fence =
	//     the held record's fence + 1 if the store still holds one, else 1.
	//     Of concurrent claimers exactly one acquires it.
	//   - IN_PROGRESS or COMPLETED with a different fingerprint: ErrMismatch
	//     (mismatch is checked first).
	//   - IN_PROGRESS under the same token (a re-sent or repeated claim),
	//     live or expired but not taken over: acquired again with the same
	//     fence, the lease renewed to end lease from now.
	//   - live IN_PROGRESS under another token, same fingerprint: an
	//     *InProgressError.
	//   - COMPLETED, same fingerprint: Claim{Replayed: true, Result: ...}.
	//
	// A bounded store that is full returns ErrStoreFull.
	Claim(ctx context.Context, key, fingerprint, token string, lease time.Duration) (Claim, error)

	// Complete records result for key and keeps it for retention, if lock
	// still owns the IN_PROGRESS record; this holds after the lease has
	// passed too, as long as nobody has taken the record over. If the
	// record is already COMPLETED under lock (a re-send), it returns nil and
	// changes nothing. Otherwise it returns ErrLockLost and changes nothing.
	// A result larger than the store's limit returns ErrResultTooLarge and
	// changes nothing. The store keeps its own copy of result.
	Complete(ctx context.Context, key string, lock Lock, result []byte, retention time.Duration) error

	// Release makes key RELEASED if lock still owns the IN_PROGRESS record
	// (expired or not, as long as nobody has taken it over), so that the
	// next claim runs the operation again, with a higher fence: the store
	// keeps the fence for retention. If the record is already RELEASED
	// under lock (a re-send), it returns nil. Otherwise it returns
	// ErrLockLost and changes nothing.
	Release(ctx context.Context, key string, lock Lock, retention time.Duration) error

	// Extend sets the lease of the IN_PROGRESS record owned by lock to end
	// lease from now. An owner whose lease has passed but whose record
	// nobody took over may still extend it. If the record is COMPLETED
	// under lock (an Extend that crossed its owner's Complete), it returns
	// nil and changes nothing. Otherwise (taken over, released or removed)
	// it returns ErrLockLost and changes nothing.
	Extend(ctx context.Context, key string, lock Lock, lease time.Duration) error
}

// ValidateKey returns an error matching [ErrInvalidKey] if key is empty or
// longer than [MaxKeyLen] bytes, and nil otherwise. Any byte values are
// allowed. Stores call it before touching their storage.
func ValidateKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	case len(key) > MaxKeyLen:
		return fmt.Errorf("%w: %d bytes, more than %d", ErrInvalidKey, len(key), MaxKeyLen)
	}
	return nil
}

// ValidateToken returns an error matching [ErrInvalidToken] if token is
// empty, longer than [MaxTokenLen] bytes or holds a byte outside printable
// ASCII ('!' to '~'), and nil otherwise. Stores call it in Claim before
// touching their storage.
func ValidateToken(token string) error {
	switch {
	case token == "":
		return fmt.Errorf("%w: empty", ErrInvalidToken)
	case len(token) > MaxTokenLen:
		return fmt.Errorf("%w: %d bytes, more than %d", ErrInvalidToken, len(token), MaxTokenLen)
	}
	for i := 0; i < len(token); i++ {
		if token[i] < '!' || token[i] > '~' {
			return fmt.Errorf("%w: byte %#x at %d is not printable ASCII", ErrInvalidToken, token[i], i)
		}
	}
	return nil
}

// NewToken returns a fresh owner token, unique to one claim: 32 hex digits,
// a random 64-bit prefix drawn once per process followed by a counter. It
// is not a secret (no client sees it), so it needs no randomness per call.
func NewToken() string {
	var b [32]byte
	hex.Encode(b[:16], tokenPrefix[:])
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], tokenCounter.Add(1))
	hex.Encode(b[16:], n[:])
	return string(b[:])
}

var (
	tokenPrefix  = func() (p [8]byte) { _, _ = rand.Read(p[:]); return p }() // never fails (crypto/rand, Go 1.24+)
	tokenCounter atomic.Uint64
)

// newToken returns a token as NewToken does, cut from a batch of
// tokenBatch tokens made in one allocation, so that a claim (which needs
// its token before it knows whether it will be a replay, since a claim
// sent again must carry the same one) costs a fraction of an allocation.
// Each batch takes its own run of counter values, and a batch is used by
// one goroutine at a time (sync.Pool), so no two claims share a token. A
// token keeps its batch's memory alive: whatever keeps a token beyond the
// claim's owner copies it (the memory store and pendingClaims do).
func newToken() string {
	b := tokenBatches.Get().(*tokens)
	if b.next == len(b.s) {
		b.fill()
	}
	t := b.s[b.next : b.next+tokenLen]
	b.next += tokenLen
	tokenBatches.Put(b)
	return t
}

const (
	tokenLen   = 32
	tokenBatch = 16
)

var tokenBatches = sync.Pool{New: func() any { return new(tokens) }}

// tokens is a batch of tokens, handed out from next on.
type tokens struct {
	s    string
	next int
}

// fill makes a new batch from the next tokenBatch counter values.
func (b *tokens) fill() {
	first := tokenCounter.Add(tokenBatch) - tokenBatch + 1
	var prefix [16]byte
	hex.Encode(prefix[:], tokenPrefix[:])
	var sb strings.Builder
	sb.Grow(tokenBatch * tokenLen)
	for i := range uint64(tokenBatch) {
		var n [8]byte
		var digits [16]byte
		binary.BigEndian.PutUint64(n[:], first+i)
		hex.Encode(digits[:], n[:])
		sb.Write(prefix[:])
		sb.Write(digits[:])
	}
	b.s, b.next = sb.String(), 0
}

// ValidateDuration returns an error matching [ErrInvalidDuration] unless
// d > 0. Stores call it for every lease and retention before touching their
// storage.
func ValidateDuration(d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("%w: got %v", ErrInvalidDuration, d)
	}
	return nil
}
