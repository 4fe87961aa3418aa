package resiliencedebug_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/magicmagnets/resilience/breaker"
	"github.com/magicmagnets/resilience/resiliencedebug"
)

// A breaker that reports to a dashboard and is registered with it, after
// two failures: the tile of its snapshot.
func Example() {
	dash := resiliencedebug.New(resiliencedebug.Config{})
	b := breaker.New(breaker.Config{Name: "payments", ConsecutiveFailures: 2, OpenFor: time.Minute, Observer: dash})
	dash.Register("payments", b)

	unavailable := errors.New("payments: unavailable")
	for range 2 {
		_ = b.Do(context.Background(), func(context.Context) error { return unavailable })
	}
	_ = b.Do(context.Background(), func(context.Context) error { return nil }) // rejected

	tile := dash.Snapshot().Policies[0]
	tile.P50, tile.P99 = 0, 0                                            // the failures' latencies, which vary from run to run
	tile.History = tile.History[115:]                                    // the last five seconds
	tile.Breaker.RetryAfter = tile.Breaker.RetryAfter.Round(time.Minute) // about a minute
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(tile)
	// Output:
	// {
	//   "policy": "breaker",
	//   "name": "payments",
	//   "state": "open",
	//   "calls": 3,
	//   "successes": 0,
	//   "failures": 2,
	//   "timeouts": 0,
	//   "rejections": 1,
	//   "retries": 0,
	//   "hedges": 0,
	//   "replays": 0,
	//   "fallbacks": 0,
	//   "request_rate": 0.3,
	//   "error_rate": 0.6666666666666666,
	//   "rejection_rate": 0.3333333333333333,
	//   "p50_ns": 0,
	//   "p99_ns": 0,
	//   "history": [
	//     0,
	//     0,
	//     0,
	//     0,
	//     3
	//   ],
	//   "breaker": {
	//     "forced_open": false,
	//     "disabled": false,
	//     "failure_rate": 1,
	//     "calls": 2,
	//     "trips": 1,
	//     "rejected": 1,
	//     "retry_after_ns": 60000000000
	//   }
	// }
}

// Mounting the dashboard on an admin mux, with the actions enabled for
// requests from the machine itself.
func ExampleDashboard_ServeHTTP() {
	dash := resiliencedebug.New(resiliencedebug.Config{
		Actions: true,
		Authorize: func(r *http.Request) bool {
			// An admin listener on loopback; check a session or a token
			// when the admin mux is reachable from elsewhere.
			return true
		},
	})
	admin := http.NewServeMux()
	admin.Handle("/debug/resilience/", dash)
	fmt.Println("serve admin on 127.0.0.1 and open /debug/resilience/")
	// Output:
	// serve admin on 127.0.0.1 and open /debug/resilience/
}
