package idempotency

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"time"
)

// MemoryConfig configures a [MemoryStore]. The zero value is ready to use.
type MemoryConfig struct {
	// MaxEntries bounds the number of records. Zero means 100,000.
	MaxEntries int
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
// Eviction. When a claim for a new key finds the store full, it makes room by
// dropping, in this order: the oldest completed record if it is past
// retention; the longest-claimed in-progress record if its lease has passed;
// the oldest completed record even if still retained. It never drops an
// in-progress record whose lease is live: if every record is one, Claim
// returns [ErrStoreFull]. Every claim also drops up to two expired records
// from the oldest end, so memory follows the live set without a sweeper.
type MemoryStore struct {
	maxEntries    int
	maxResultSize int
	epoch         time.Time // deadlines are durations since epoch

	mu      sync.Mutex
	records map[string]*record
	done    recordList // COMPLETED records, oldest completion first
	running recordList // IN_PROGRESS records, oldest claim or extend first
}

// record is one key's state. Completed records drop their token.
type record struct {
	key         string
	fingerprint string
	token       string // "" once completed
	result      []byte
	fence       int64
	deadline    time.Duration // lease or retention deadline, since epoch
	completed   bool
	prev, next  *record
}

// NewMemoryStore returns an empty memory store. It panics if a limit in c is
// negative.
func NewMemoryStore(c MemoryConfig) *MemoryStore {
	if c.MaxEntries < 0 || c.MaxResultSize < 0 {
		panic(fmt.Sprintf("idempotency: NewMemoryStore: negative limit in %+v", c))
	}
	if c.MaxEntries == 0 {
		c.MaxEntries = 100_000
	}
	if c.MaxResultSize == 0 {
		c.MaxResultSize = DefaultMaxResultSize
	}
	return &MemoryStore{
		maxEntries:    c.MaxEntries,
		maxResultSize: c.MaxResultSize,
		epoch:         time.Now(),
		records:       make(map[string]*record),
	}
}

// Len returns the number of records held, expired ones not yet dropped
// included.
func (s *MemoryStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.records)
}

func (s *MemoryStore) now() time.Duration { return time.Since(s.epoch) }

// Claim implements [Store.Claim]. A replay returns the stored result without
// copying it: it must not be modified.
func (s *MemoryStore) Claim(ctx context.Context, key, fingerprint string, lease time.Duration) (Claim, error) {
	if err := checkCall(ctx, key, lease); err != nil {
		return Claim{}, err
	}
	now := s.now()

	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropExpired(now, 2)

	r := s.records[key]
	if r != nil && now < r.deadline {
		switch {
		case r.fingerprint != fingerprint:
			return Claim{}, ErrMismatch
		case r.completed:
			return Claim{Replayed: true, Result: r.result}, nil
		default:
			return Claim{}, &InProgressError{Remaining: r.deadline - now}
		}
	}

	lock := Lock{Token: newToken(), Fence: 1}
	if r != nil { // expired: take it over
		lock.Fence = r.fence + 1
		s.unlink(r)
	} else {
		if len(s.records) >= s.maxEntries && !s.evict(now) {
			return Claim{}, ErrStoreFull
		}
		r = &record{key: strings.Clone(key)}
		s.records[r.key] = r
	}
	*r = record{key: r.key, fingerprint: strings.Clone(fingerprint), token: lock.Token, fence: lock.Fence, deadline: now + lease}
	s.running.pushBack(r)
	return Claim{Lock: lock}, nil
}

// Complete implements [Store.Complete]. The store keeps a copy of result.
func (s *MemoryStore) Complete(ctx context.Context, key string, lock Lock, result []byte, retention time.Duration) error {
	if err := checkCall(ctx, key, retention); err != nil {
		return err
	}
	var stored []byte
	if len(result) <= s.maxResultSize {
		stored = bytes.Clone(result) // outside the lock
	}
	now := s.now()

	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.owned(key, lock)
	if r == nil {
		return ErrLockLost
	}
	if len(result) > s.maxResultSize {
		s.remove(r)
		return fmt.Errorf("%w: %d bytes, limit %d", ErrResultTooLarge, len(result), s.maxResultSize)
	}
	s.unlink(r)
	r.token, r.result, r.completed, r.deadline = "", stored, true, now+retention
	s.done.pushBack(r)
	return nil
}

// Release implements [Store.Release].
func (s *MemoryStore) Release(ctx context.Context, key string, lock Lock) error {
	if err := checkCall(ctx, key, time.Nanosecond); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.owned(key, lock)
	if r == nil {
		return ErrLockLost
	}
	s.remove(r)
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
	r := s.owned(key, lock)
	if r == nil {
		return ErrLockLost
	}
	r.deadline = now + lease
	s.unlink(r)
	s.running.pushBack(r)
	return nil
}

// owned returns key's record if it is in progress and held by lock.
func (s *MemoryStore) owned(key string, lock Lock) *record {
	r := s.records[key]
	if r == nil || r.completed || lock.Token == "" || r.token != lock.Token || r.fence != lock.Fence {
		return nil
	}
	return r
}

// dropExpired removes up to n expired records from the oldest ends.
func (s *MemoryStore) dropExpired(now time.Duration, n int) {
	for range n {
		switch r := s.done.head; {
		case r != nil && now >= r.deadline:
			s.remove(r)
		default:
			return
		}
	}
}

// evict makes room for one record following the documented order and
// reports whether it could.
func (s *MemoryStore) evict(now time.Duration) bool {
	if r := s.done.head; r != nil && now >= r.deadline {
		s.remove(r)
		return true
	}
	if r := s.running.head; r != nil && now >= r.deadline {
		s.remove(r)
		return true
	}
	if r := s.done.head; r != nil {
		s.remove(r)
		return true
	}
	return false
}

func (s *MemoryStore) remove(r *record) {
	s.unlink(r)
	delete(s.records, r.key)
}

func (s *MemoryStore) unlink(r *record) {
	if r.completed {
		s.done.remove(r)
	} else {
		s.running.remove(r)
	}
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

// newToken returns 128 random bits in hex.
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand, Go 1.24+)
	return hex.EncodeToString(b[:])
}

// recordList is an intrusive doubly linked list of records.
type recordList struct{ head, tail *record }

func (l *recordList) pushBack(r *record) {
	r.prev, r.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = r
	} else {
		l.head = r
	}
	l.tail = r
}

func (l *recordList) remove(r *record) {
	if r.prev != nil {
		r.prev.next = r.next
	} else if l.head == r {
		l.head = r.next
	}
	if r.next != nil {
		r.next.prev = r.prev
	} else if l.tail == r {
		l.tail = r.prev
	}
	r.prev, r.next = nil, nil
}
