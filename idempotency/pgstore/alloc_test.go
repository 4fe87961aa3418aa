package pgstore_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/pgstore"
)

// What the store's calls allocate with pgx v5.13.0. Each statement: the
// query value and its key buffer (2), the timeout's context (5), pgx's
// watch of that context (6), pgx's rows and the row's scan (3 for a claim,
// 1 for a complete) and the command tag; a replay's result (1) is the copy
// the caller gets. The arguments allocate nothing of their own (query.go).
const (
	replayAllocs = 18
	newKeyAllocs = 34 // Claim and Complete
)

// allocsPerRun is the least of three testing.AllocsPerRun counts of f:
// what a call allocates, apart from what the process's other work (pgx's
// pool, a buffer that a sync.Pool let go, as the race detector makes it do
// at random) sometimes adds.
func allocsPerRun(runs int, f func()) float64 {
	least := testing.AllocsPerRun(runs, f)
	for range 2 {
		least = min(least, testing.AllocsPerRun(runs, f))
	}
	return least
}

func TestReplayAllocates18Times(t *testing.T) {
	s := pgstore.New(newPool(t), pgstore.Config{})
	key, token := "allocs:"+idempotency.NewKey(), idempotency.NewToken()
	c, err := s.Claim(t.Context(), key, "fp", token, time.Minute)
	if err == nil {
		err = s.Complete(t.Context(), key, c.Lock, []byte("result"), time.Minute)
	}
	if err != nil {
		t.Fatal(err)
	}
	allocs := allocsPerRun(200, func() {
		if c, err = s.Claim(t.Context(), key, "fp", token, time.Minute); err == nil && !c.Replayed {
			t.Fatalf("not replayed: %+v", c)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if allocs > replayAllocs {
		t.Errorf("a replay allocates %v times, want at most %d", allocs, replayAllocs)
	}
}

func TestNewKeyAllocates34Times(t *testing.T) {
	s := pgstore.New(newPool(t), pgstore.Config{})
	prefix, token := "allocs:"+idempotency.NewKey()+":", idempotency.NewToken()
	keys := make([]string, 3*201+1)
	for i := range keys {
		keys[i] = prefix + strconv.Itoa(i)
	}
	i := 0
	var err error
	allocs := allocsPerRun(200, func() {
		key := keys[i]
		i++
		var c idempotency.Claim
		if c, err = s.Claim(t.Context(), key, "fp", token, time.Minute); err == nil {
			err = s.Complete(t.Context(), key, c.Lock, []byte("result"), time.Minute)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if allocs > newKeyAllocs {
		t.Errorf("a new key allocates %v times, want at most %d", allocs, newKeyAllocs)
	}
}
