package pgstore_test

import (
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/magicmagnets/resilience/idempotency/pgstore"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// databaseURL returns DATABASE_URL. Without it the test is skipped, or
// fails when CI is set, so that CI cannot pass without having run it.
func databaseURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("DATABASE_URL is not set: CI must start PostgreSQL (.ci/services.sh)")
		}
		t.Skip("DATABASE_URL is not set: run make integration")
	}
	return url
}

// newPool returns a pool on the test database with the default table
// migrated, closed at cleanup.
func newPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(databaseURL(t))
	require.NoError(t, err)
	return openPool(t, cfg)
}

func openPool(t testing.TB, cfg *pgxpool.Config) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	require.NoError(t, pgstore.Migrate(t.Context(), pool), "PostgreSQL at DATABASE_URL does not answer")
	return pool
}
