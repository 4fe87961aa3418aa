package redisstore_test

import (
	"testing"

	"github.com/magicmagnets/resilience/ratelimit"
	"github.com/magicmagnets/resilience/ratelimit/redisstore"
)

// takeAllocs is what an allowed Take allocates with go-redis v9.22.0: the
// script's arguments and the key and request id (4), go-redis's command
// (1), the timeout's context (4), the reply (3), and go-redis's own
// reading and connection check (4).
const takeAllocs = 16

func TestTakeAllocates16Times(t *testing.T) {
	client := newClient(t)
	s := redisstore.New(client, redisstore.Config{Prefix: unique("allocs")})
	l := ratelimit.Limit{Rate: 1e9, Burst: 1000}
	var err error
	allocs := testing.AllocsPerRun(200, func() {
		var d ratelimit.Decision
		if d, err = s.Take(t.Context(), "k", l, 1); err == nil && !d.Allowed {
			t.Fatalf("denied: %+v", d)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if allocs > takeAllocs {
		t.Errorf("Take allocates %v times, want at most %d", allocs, takeAllocs)
	}
}
