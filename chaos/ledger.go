package main

import (
	"fmt"
	"sync"
)

// errStale is the ledger's refusal of a write whose fence is lower than one
// it has already seen for the same key: the writer lost its lease and
// another owner has taken the key over.
type errStale struct {
	key         string
	fence, seen int64
}

func (e *errStale) Error() string {
	return fmt.Sprintf("ledger: stale write for key %q: fence %d, already saw %d", e.key, e.fence, e.seen)
}

// ledger is the system the payments handler charges: the ground truth the
// trial checks the clients against. It counts the charges of every order,
// and keeps the highest fence seen per idempotency key, refusing a write
// that carries a lower one. It is safe for concurrent use.
type ledger struct {
	mu      sync.Mutex
	changed *sync.Cond
	charges map[string][]string // order id → ids of its charges, in order
	fences  map[string]int64    // fence key → highest fence seen
	begun   map[string]write    // order id → the owner that said it began a held charge
	refused map[string][]int64  // fence key → fences of the writes refused
	total   int
}

func newLedger() *ledger {
	l := &ledger{
		charges: make(map[string][]string),
		fences:  make(map[string]int64),
		begun:   make(map[string]write),
		refused: make(map[string][]int64),
	}
	l.changed = sync.NewCond(&l.mu)
	return l
}

// apply charges order under fence key key with fence fence, and returns the
// charge's id. A fence of 0 means the writer holds none (a request without
// an idempotency key): it is never refused. A fence lower than the highest
// seen for key is refused with an *errStale and charges nothing.
func (l *ledger) apply(key string, fence int64, order string) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	defer l.changed.Broadcast()
	if fence > 0 {
		if seen := l.fences[key]; fence < seen {
			l.refused[key] = append(l.refused[key], fence)
			return "", &errStale{key: key, fence: fence, seen: seen}
		}
		l.fences[key] = fence
	}
	l.total++
	id := fmt.Sprintf("ch_%06d", l.total)
	l.charges[order] = append(l.charges[order], id)
	return id, nil
}

// begin notes that the owner of w.Key with fence w.Fence started a charge
// of w.Order it holds back (the takeover phase).
func (l *ledger) begin(w write) {
	l.mu.Lock()
	defer l.mu.Unlock()
	defer l.changed.Broadcast()
	l.begun[w.Order] = w
	l.fences[w.Key] = max(l.fences[w.Key], w.Fence)
}

// waitFor waits until cond, called with the ledger locked, is true, or
// until done is closed. It reports whether cond became true.
func (l *ledger) waitFor(done <-chan struct{}, cond func() bool) bool {
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-done:
			l.mu.Lock()
			l.changed.Broadcast()
			l.mu.Unlock()
		case <-stop:
		}
	}()
	l.mu.Lock()
	defer l.mu.Unlock()
	for !cond() {
		select {
		case <-done:
			return false
		default:
		}
		l.changed.Wait()
	}
	return true
}

// waitBegun waits until an owner has begun a held charge of order, and
// returns its fence key and fence; ok is false if done was closed first.
func (l *ledger) waitBegun(done <-chan struct{}, order string) (w write, ok bool) {
	ok = l.waitFor(done, func() bool {
		w = l.begun[order]
		return w.Fence > 0
	})
	return w, ok
}

// waitAbove waits until the ledger has seen a fence above fence for key; it
// reports false if done was closed first.
func (l *ledger) waitAbove(done <-chan struct{}, key string, fence int64) bool {
	return l.waitFor(done, func() bool { return l.fences[key] > fence })
}

// times returns how often order was charged.
func (l *ledger) times(order string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.charges[order])
}

// charged reports whether id is one of order's charges.
func (l *ledger) charged(order, id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.charges[order] {
		if c == id {
			return true
		}
	}
	return false
}

// fence returns the highest fence seen for key.
func (l *ledger) fence(key string) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fences[key]
}

// refusals returns the fences of the writes refused for key.
func (l *ledger) refusals(key string) []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int64(nil), l.refused[key]...)
}

// staleRefused returns how many writes the ledger refused in all.
func (l *ledger) staleRefused() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.refused {
		n += len(r)
	}
	return n
}
