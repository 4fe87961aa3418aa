package idempotency

import (
	"bytes"
	"container/heap"
	"context"
	"fmt"
	"math"
	"sync"
	"time"
)

// MemoryConfig configures a [MemoryStore]. The zero value is ready to use.
type MemoryConfig struct {
	// MaxEntries bounds the number of records. Zero means 100,000.
	MaxEntries int
	// MaxBytes bounds the bytes the records hold (keys, fingerprints,
	// tokens and results, plus a fixed overhead per record). Zero means
	// 256 MiB.
	MaxBytes int64
	// MaxResultSize bounds each stored result, in bytes. Zero means
	// DefaultMaxResultSize (1 MiB).
	MaxResultSize int
}

// MemoryStore is a [Store] held in the memory of one process: the embedded
// default, for a service with one replica and for tests. It is safe for
// concurrent use and starts no goroutine; expired records are dropped lazily,
// when a claim meets them or needs their room, so it works inside a
// testing/synctest bubble (create it inside the bubble). Deadlines come from
// time.Now.
//
// Eviction. When a record does not fit (MaxEntries or MaxBytes), the store
// makes room by dropping expired records first, earliest deadline first,
// whatever their state or retention; then retained completed and released
// records, earliest deadline first. It never drops an in-progress record
// whose lease is live: when only such records are left, Claim (or Complete,
// for a result that does not fit) returns [ErrStoreFull]. Every claim also
// drops up to two expired records, so memory follows the live set without a
// sweeper; an expired in-progress record is kept one more lease before that,
// as the Store contract asks.
type MemoryStore struct {
	maxEntries    int
	maxBytes      int64
	maxResultSize int
	epoch         time.Time // deadlines are durations since epoch

	mu      sync.Mutex
	records map[string]*record
	bytes   int64
	held    recordHeap // COMPLETED and RELEASED records, by deadline
	running recordHeap // IN_PROGRESS records, by lease deadline
}

type state uint8

const (
	inProgress state = iota
	completed
	released
)

// record is one key's state.
type record struct {
	key         string
	fingerprint string
	token       string
	result      []byte
	fence       int64
	lease       time.Duration // the last lease granted, while in progress
	deadline    time.Duration // lease, retention or release deadline, since epoch
	state       state
	index       int // position in its heap
}

// recordOverhead approximates the bytes a record costs beyond its strings
// and result: the struct, the map entry and the heap slot.
const recordOverhead = 160

func (r *record) size() int64 {
	return recordOverhead + int64(len(r.key)+len(r.fingerprint)+len(r.token)+len(r.result))
}

// NewMemoryStore returns an empty memory store. It panics if a limit in c is
// negative.
func NewMemoryStore(c MemoryConfig) *MemoryStore {
	if c.Validate() != nil {
		panic(fmt.Sprintf("idempotency: NewMemoryStore: negative limit in %+v", c))
	}
	if c.MaxEntries == 0 {
		c.MaxEntries = 100_000
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = 256 << 20
	}
	if c.MaxResultSize == 0 {
		c.MaxResultSize = DefaultMaxResultSize
	}
	return &MemoryStore{
		maxEntries:    c.MaxEntries,
		maxBytes:      c.MaxBytes,
		maxResultSize: c.MaxResultSize,
		epoch:         time.Now(),
		records:       make(map[string]*record),
	}
}

// Len returns the number of records held, expired and released ones not yet
// dropped included.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.records)
}

func (s *MemoryStore) now() time.Duration { return time.Since(s.epoch) }

// later returns t + d for d ≥ 0, saturating rather than wrapping, so that
// a lease or retention of math.MaxInt64 means "never" rather than "already".
func later(t, d time.Duration) time.Duration {
	if t > math.MaxInt64-d {
		return math.MaxInt64
	}
	return t + d
}

// Claim implements [Store.Claim]. A replay returns the stored result without
// copying it: it must not be modified.
func (s *MemoryStore) Claim(ctx context.Context, key, fingerprint, token string, lease time.Duration) (Claim, error) {
	if err := checkCall(ctx, key, lease); err != nil {
		return Claim{}, err
	}
	if err := ValidateToken(token); err != nil {
		return Claim{}, err
	}
	now := s.now()

	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropExpired(now, 2)

	r := s.records[key]
	if r != nil && r.state != released {
		if (now < r.deadline || r.token == token) && r.fingerprint != fingerprint {
			return Claim{}, ErrMismatch
		}
		switch {
		case r.state == inProgress && r.token == token: // our own claim, re-sent
			r.lease, r.deadline = lease, later(now, lease)
			heap.Fix(&s.running, r.index)
			return Claim{Lock: Lock{Token: r.token, Fence: r.fence}}, nil
		case now >= r.deadline: // expired: taken over below
		case r.state == completed:
			return Claim{Replayed: true, Result: r.result}, nil
		default:
			return Claim{}, &InProgressError{Remaining: r.deadline - now}
		}
	}

	// The record's strings are copies, in one allocation (a concatenation
	// of two or more non-empty strings, key and token, always copies).
	all := key + fingerprint + token
	k, f := len(key), len(key)+len(fingerprint)
	lock := Lock{Token: all[f:], Fence: 1}
	fresh := &record{key: all[:k], fingerprint: all[k:f], token: lock.Token, lease: lease, deadline: later(now, lease)}
	if r != nil {
		lock.Fence = r.fence + 1
		s.remove(r)
	}
	fresh.fence = lock.Fence
	if !s.makeRoom(now, 1, fresh.size()) {
		if r != nil {
			s.add(r) // keep its fence
		}
		return Claim{}, ErrStoreFull
	}
	s.add(fresh)
	return Claim{Lock: lock}, nil
}

// replay answers, from a read, a claim of key whose record in s is
// completed, within its retention, with the given fingerprint: the stored
// result (not a copy: it must not be modified) and true, which is what
// Claim would return in Claim.Result. In every other case, a done ctx
// included, it returns false, and the caller claims. It changes no record
// but drops up to two expired ones, as a claim does. It takes no token and
// reads the clock once, where a claim needs a token chosen before it is
// sent and its send time. Key and fingerprint may be bytes, so that a
// caller that has them in a buffer need not make strings of them for a
// replay.
func replay[S string | []byte](ctx context.Context, s *MemoryStore, key, fingerprint S) ([]byte, bool) {
	if ctx.Err() != nil {
		return nil, false
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropExpired(now, 2) // so that a store that only replays lets go of them too
	r := s.records[string(key)]
	if r == nil || r.state != completed || now >= r.deadline || r.fingerprint != string(fingerprint) {
		return nil, false
	}
	return r.result, true
}

// Complete implements [Store.Complete]. The store keeps a copy of result.
func (s *MemoryStore) Complete(ctx context.Context, key string, lock Lock, result []byte, retention time.Duration) error {
	if err := checkCall(ctx, key, retention); err != nil {
		return err
	}
	if len(result) > s.maxResultSize {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrResultTooLarge, len(result), s.maxResultSize)
	}
	stored := bytes.Clone(result) // outside the lock
	now := s.now()

	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.records[key]
	switch {
	case r.heldBy(lock, completed):
		return nil // a re-send
	case !r.heldBy(lock, inProgress):
		return ErrLockLost
	}
	s.remove(r)
	if !s.makeRoom(now, 1, r.size()+int64(len(stored))) {
		s.add(r) // back as it was
		return fmt.Errorf("%w: no room for a %d-byte result", ErrStoreFull, len(stored))
	}
	r.result, r.state, r.deadline = stored, completed, later(now, retention)
	s.add(r)
	return nil
}

// Release implements [Store.Release].
func (s *MemoryStore) Release(ctx context.Context, key string, lock Lock, retention time.Duration) error {
	if err := checkCall(ctx, key, retention); err != nil {
		return err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.records[key]
	switch {
	case r.heldBy(lock, released):
		return nil // a re-send
	case !r.heldBy(lock, inProgress):
		return ErrLockLost
	}
	s.remove(r)
	r.fingerprint, r.state, r.deadline = "", released, later(now, retention)
	s.add(r)
	return nil
}

// Extend implements [Store.Extend].
func (s *MemoryStore) Extend(ctx context.Context, key string, lock Lock, lease time.Duration) error {
	if err := checkCall(ctx, key, lease); err != nil {
		return err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.records[key]
	switch {
	case r.heldBy(lock, completed):
		return nil
	case !r.heldBy(lock, inProgress):
		return ErrLockLost
	}
	r.lease, r.deadline = lease, later(now, lease)
	heap.Fix(&s.running, r.index)
	return nil
}

// heldBy reports whether r is in state st under lock.
func (r *record) heldBy(lock Lock, st state) bool {
	return r != nil && r.state == st && lock.Token != "" && r.token == lock.Token && r.fence == lock.Fence
}

// dropExpired removes up to n expired records, earliest deadline first. An
// expired in-progress record stays one more lease (a late Complete or
// Release by its owner must still work).
func (s *MemoryStore) dropExpired(now time.Duration, n int) {
	for range n {
		switch {
		case len(s.held) > 0 && now >= s.held[0].deadline:
			s.remove(s.held[0])
		case len(s.running) > 0 && now >= later(s.running[0].deadline, s.running[0].lease):
			s.remove(s.running[0])
		default:
			return
		}
	}
}

// makeRoom evicts records, in the documented order, until one more record
// of size bytes fits (entries more records), and reports whether it does.
func (s *MemoryStore) makeRoom(now time.Duration, entries int, size int64) bool {
	for len(s.records)+entries > s.maxEntries || s.bytes+size > s.maxBytes {
		if !s.evictOne(now) {
			return false
		}
	}
	return true
}

// evictOne drops the expired record with the earliest deadline or, when none
// has expired, the retained completed or released record with the earliest
// deadline. It reports whether it dropped one.
func (s *MemoryStore) evictOne(now time.Duration) bool {
	var held, run *record
	if len(s.held) > 0 {
		held = s.held[0]
	}
	if len(s.running) > 0 && now >= s.running[0].deadline {
		run = s.running[0]
	}
	switch {
	case run != nil && (held == nil || now < held.deadline || run.deadline < held.deadline):
		s.remove(run)
	case held != nil:
		s.remove(held)
	default:
		return false
	}
	return true
}

func (s *MemoryStore) add(r *record) {
	s.records[r.key] = r
	s.bytes += r.size()
	if r.state == inProgress {
		heap.Push(&s.running, r)
	} else {
		heap.Push(&s.held, r)
	}
}

func (s *MemoryStore) remove(r *record) {
	if r.state == inProgress {
		heap.Remove(&s.running, r.index)
	} else {
		heap.Remove(&s.held, r.index)
	}
	s.bytes -= r.size()
	delete(s.records, r.key)
}

// checkCall validates the arguments every Store method shares.
func checkCall(ctx context.Context, key string, d time.Duration) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if err := ValidateDuration(d); err != nil {
		return err
	}
	return ctx.Err()
}

// recordHeap is a min-heap of records by deadline (container/heap).
type recordHeap []*record

func (h recordHeap) Len() int           { return len(h) }
func (h recordHeap) Less(i, j int) bool { return h[i].deadline < h[j].deadline }
func (h recordHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *recordHeap) Push(x any) {
	r := x.(*record)
	r.index = len(*h)
	*h = append(*h, r)
}
func (h *recordHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return r
}
