package redisstore_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/redisstore"
)

// What the store's calls allocate with go-redis v9.22.0 (the benchmarks
// count a few more, their own: a token per new key, a replay's Claim
// escaping). Each call: the script's arguments and
// the key (3), go-redis's command (1), the timeout's context (5, none when
// the caller's deadline comes before the store's Timeout), go-redis's
// connection check (3), and the reply; a replay's reply is its record (3
// with the result the caller gets).
const (
	replayAllocs       = 15
	replayNearerAllocs = 10 // under a caller's deadline nearer than the Timeout
	newKeyAllocs       = 26 // Claim and Complete; an acquired lock's reply is a bare integer
)

// replayCost completes a key in a fresh store and returns what a replay
// of it allocates, under a deadline that far ahead when it is positive.
func replayCost(t *testing.T, deadline time.Duration) float64 {
	t.Helper()
	ctx := t.Context()
	if deadline > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, deadline)
		defer cancel()
	}
	client := newClient(t)
	s := redisstore.New(client, redisstore.Config{Prefix: "allocs-" + idempotency.NewKey() + ":"})
	token := idempotency.NewToken()
	c, err := s.Claim(t.Context(), "k", "fp", token, time.Minute)
	if err == nil {
		err = s.Complete(t.Context(), "k", c.Lock, []byte("result"), time.Minute)
	}
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(200, func() {
		if c, err = s.Claim(ctx, "k", "fp", token, time.Minute); err == nil && !c.Replayed {
			t.Fatalf("not replayed: %+v", c)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return allocs
}

func TestReplayAllocates15Times(t *testing.T) {
	if allocs := replayCost(t, 0); allocs > replayAllocs {
		t.Errorf("a replay allocates %v times, want at most %d", allocs, replayAllocs)
	}
}

func TestReplayUnderANearerDeadlineAllocates10Times(t *testing.T) {
	if allocs := replayCost(t, redisstore.DefaultTimeout/2); allocs > replayNearerAllocs {
		t.Errorf("a replay under a nearer deadline allocates %v times, want at most %d", allocs, replayNearerAllocs)
	}
}

func TestNewKeyAllocates26Times(t *testing.T) {
	client := newClient(t)
	s := redisstore.New(client, redisstore.Config{Prefix: "allocs-" + idempotency.NewKey() + ":"})
	token := idempotency.NewToken()
	keys := make([]string, 201) // AllocsPerRun runs once more than asked
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
	}
	i := 0
	var err error
	allocs := testing.AllocsPerRun(200, func() {
		var c idempotency.Claim
		if c, err = s.Claim(t.Context(), keys[i], "fp", token, time.Minute); err == nil {
			err = s.Complete(t.Context(), keys[i], c.Lock, []byte("result"), time.Minute)
		}
		i++
	})
	if err != nil {
		t.Fatal(err)
	}
	if allocs > newKeyAllocs {
		t.Errorf("a new key's Claim and Complete allocate %v times, want at most %d", allocs, newKeyAllocs)
	}
}
