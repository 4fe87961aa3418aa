package pgstore_test

import (
	"os"
	"os/exec"
	osuser "os/user"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/pgstore"
	"github.com/magicmagnets/resilience/idempotency/storetest"
)

func TestOutageRefusesWorkAndNothingRunsTwiceAfterwards(t *testing.T) {
	pool := newPool(t)
	storetest.RunOutage(t, func(*testing.T) idempotency.Store {
		return pgstore.New(pool, pgstore.Config{})
	}, outage(t, pool))
}

// outage stops and starts the PostgreSQL server at DATABASE_URL, using
// PG_CTL, PG_DATA and PG_OS_USER as .ci/services.sh exports them. Stopping
// is a fast shutdown: sessions end, committed data stays.
func outage(t *testing.T, pool *pgxpool.Pool) storetest.Outage {
	pgCtl, data, user := os.Getenv("PG_CTL"), os.Getenv("PG_DATA"), os.Getenv("PG_OS_USER")
	if pgCtl == "" || data == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("PG_CTL or PG_DATA is not set: CI must start PostgreSQL with .ci/services.sh")
		}
		t.Skip("PG_CTL or PG_DATA is not set: run make integration")
	}
	pgctl := func(t *testing.T, args ...string) {
		args = append([]string{"-D", data, "-w"}, args...)
		cmd := exec.Command(pgCtl, args...)
		if me, _ := osuser.Current(); user != "" && me != nil && me.Username != user {
			cmd = exec.Command("runuser", append([]string{"-u", user, "--", pgCtl}, args...)...)
		}
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "pg_ctl %v: %s", args, out)
	}
	return storetest.Outage{
		Stop: func(t *testing.T) {
			pgctl(t, "-m", "fast", "stop")
			require.Eventually(t, func() bool { return pool.Ping(t.Context()) != nil }, 10*time.Second, 10*time.Millisecond, "postgres did not stop")
		},
		Start: func(t *testing.T) {
			pgctl(t, "-l", data+"/log", "start")
			require.Eventually(t, func() bool { return pool.Ping(t.Context()) == nil }, 10*time.Second, 10*time.Millisecond, "postgres did not start")
		},
		ClaimError: "pgstore: claim",
	}
}
