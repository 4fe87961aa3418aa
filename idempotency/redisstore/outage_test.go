package redisstore_test

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/redisstore"
	"github.com/magicmagnets/resilience/idempotency/storetest"
)

func TestOutageRefusesWorkAndNothingRunsTwiceAfterwards(t *testing.T) {
	client := newClient(t)
	prefix := "outage:" + idempotency.NewKey() + ":"
	storetest.RunOutage(t, func(*testing.T) idempotency.Store {
		return redisstore.New(client, redisstore.Config{Prefix: prefix})
	}, outage(t, client))
}

// outage stops and starts the Redis server at REDIS_URL, using REDIS_PORT
// and REDIS_CONF as .ci/services.sh exports them. Stopping saves the data
// set, as a server with persistence would keep it.
func outage(t *testing.T, client *redis.Client) storetest.Outage {
	port, conf := os.Getenv("REDIS_PORT"), os.Getenv("REDIS_CONF")
	if port == "" || conf == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("REDIS_PORT or REDIS_CONF is not set: CI must start Redis with .ci/services.sh")
		}
		t.Skip("REDIS_PORT or REDIS_CONF is not set: run make integration")
	}
	return storetest.Outage{
		Stop: func(t *testing.T) {
			out, _ := exec.Command("redis-cli", "-p", port, "shutdown", "save").CombinedOutput()
			require.Eventually(t, func() bool { return client.Ping(t.Context()).Err() != nil }, 10*time.Second, 10*time.Millisecond, "redis did not stop: %s", out)
		},
		Start: func(t *testing.T) {
			out, err := exec.Command("redis-server", conf).CombinedOutput()
			require.NoError(t, err, "%s", out)
			require.Eventually(t, func() bool { return client.Ping(t.Context()).Err() == nil }, 10*time.Second, 10*time.Millisecond, "redis did not start")
		},
		ClaimError: "redisstore: claim",
	}
}
