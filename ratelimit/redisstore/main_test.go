package redisstore_test

import (
	"context"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// The outage tests make the client log every failed dial; keep the
	// test output readable.
	redis.SetLogger(quiet{})
	goleak.VerifyTestMain(m)
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// redisURL returns REDIS_URL. Without it the test is skipped, or fails when
// CI is set, so that CI cannot pass without having run it.
func redisURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("REDIS_URL")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("REDIS_URL is not set: CI must start Redis (.ci/services.sh)")
		}
		t.Skip("REDIS_URL is not set: run make integration")
	}
	return url
}

// newClient returns a client of the test server, closed at cleanup,
// configured as the package doc asks: ContextTimeoutEnabled, so that the
// store's timeout bounds socket reads and writes.
func newClient(t testing.TB) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(redisURL(t))
	require.NoError(t, err)
	opts.ContextTimeoutEnabled = true
	client := redis.NewClient(opts)
	t.Cleanup(func() { _ = client.Close() })
	require.NoError(t, client.Ping(t.Context()).Err(), "Redis at REDIS_URL does not answer")
	return client
}
