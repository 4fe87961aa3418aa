package redisstore_test

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/ratelimit"
	"github.com/magicmagnets/resilience/ratelimit/redisstore"
	"github.com/magicmagnets/resilience/resiliencetest"
)

// ownRedis is a redis-server of this test's own, on a free loopback port,
// to stop and start again.
type ownRedis struct {
	t    *testing.T
	addr string
	dir  string
	cmd  *exec.Cmd
}

// startOwnRedis starts a redis-server without persistence. The test needs
// the server binary that .ci/services.sh installs; it is skipped or fails
// as the other integration tests are when REDIS_URL is unset.
func startOwnRedis(t *testing.T) *ownRedis {
	redisURL(t)
	_, err := exec.LookPath("redis-server")
	require.NoError(t, err, "redis-server is not installed: .ci/services.sh installs it")
	r := &ownRedis{t: t, dir: t.TempDir()}
	for range 5 { // another process may take the free port first
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		r.addr = ln.Addr().String()
		require.NoError(t, ln.Close())
		if r.tryStart() {
			t.Cleanup(r.stop)
			return r
		}
	}
	t.Fatal("redis-server did not start")
	return nil
}

func (r *ownRedis) tryStart() bool {
	_, port, _ := net.SplitHostPort(r.addr)
	r.cmd = exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", r.dir, "--daemonize", "no", "--logfile", "")
	require.NoError(r.t, r.cmd.Start())
	probe := redis.NewClient(&redis.Options{Addr: r.addr, MaxRetries: -1})
	defer probe.Close()
	for range 200 {
		if probe.Ping(r.t.Context()).Err() == nil {
			return true
		}
		if r.cmd.ProcessState != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
	return false
}

// start starts the server again on the same port, with no data.
func (r *ownRedis) start() {
	require.True(r.t, r.tryStart(), "redis-server did not start again on %s", r.addr)
}

// stop shuts the server down without saving and waits for it to exit.
func (r *ownRedis) stop() {
	if r.cmd == nil {
		return
	}
	c := redis.NewClient(&redis.Options{Addr: r.addr, MaxRetries: -1})
	// Not r.t.Context(): stop also runs at cleanup, when it has ended.
	_ = c.ShutdownNoSave(context.Background()).Err() // the connection closes: no reply
	_ = c.Close()
	done := make(chan struct{})
	go func() { _ = r.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = r.cmd.Process.Kill()
		<-done
	}
	r.cmd = nil
}

// hammer runs takers goroutines that each take a token from s under key
// every millisecond for d, and returns how many were allowed, the errors,
// and the longest a Take took.
func hammer(s ratelimit.Store, key string, l ratelimit.Limit, takers int, d time.Duration) (allowed int64, errs []error, longest time.Duration) {
	var n atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	for range takers {
		wg.Go(func() {
			for time.Since(start) < d {
				t0 := time.Now()
				dec, err := s.Take(context.Background(), key, l, 1)
				took := time.Since(t0)
				mu.Lock()
				longest = max(longest, took)
				if err != nil {
					errs = append(errs, err)
				}
				mu.Unlock()
				if dec.Allowed {
					n.Add(1)
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
	wg.Wait()
	return n.Load(), errs, longest
}

func TestOutageMidRunDegradesAsDocumentedAndSharedDecisionsResume(t *testing.T) {
	srv := startOwnRedis(t)
	const timeout = 50 * time.Millisecond
	prefix := unique("outage")
	var localRec, closedRec resiliencetest.Recorder
	local := redisstore.New(clientOf(t, srv.addr), redisstore.Config{Prefix: prefix, Replicas: 2, Timeout: timeout, Observer: &localRec})
	closed := redisstore.New(clientOf(t, srv.addr), redisstore.Config{Prefix: prefix, FailClosed: true, Timeout: timeout, Observer: &closedRec})
	l := ratelimit.Limit{Rate: 100, Burst: 10}

	// Both stores share each limit while Redis serves.
	requireShared := func(key string) {
		t.Helper()
		d, err := local.Take(t.Context(), key, l, 10)
		require.NoError(t, err)
		require.True(t, d.Allowed)
		d, err = closed.Take(t.Context(), key, l, 1)
		require.NoError(t, err)
		require.False(t, d.Allowed, "the other store took from the same bucket")
	}
	requireShared("before")

	srv.stop()
	const window = 400 * time.Millisecond
	var wg sync.WaitGroup
	var closedErrs []error
	var closedLongest time.Duration
	wg.Go(func() { _, closedErrs, closedLongest = hammer(closed, "during", l, 2, window) })
	allowed, errs, longest := hammer(local, "during", l, 4, window)
	wg.Wait()

	assert.Empty(t, errs, "the default store decides locally")
	assert.Less(t, longest, timeout+slack, "no decision waits longer than the timeout")
	// Replicas 2: this process's share is 50 a second with a burst of 5.
	share := 5 + 50*window.Seconds()
	assert.LessOrEqual(t, float64(allowed), share+1, "no more than the local share")
	assert.GreaterOrEqual(t, float64(allowed), 0.7*share, "about the local share")
	assert.Equal(t, []resiliencetest.Transition{{From: "shared", To: "local"}}, localRec.StateChanges())

	require.NotEmpty(t, closedErrs)
	for _, err := range closedErrs {
		require.ErrorIs(t, err, redisstore.ErrUnavailable)
	}
	assert.Less(t, closedLongest, timeout+slack)
	assert.Equal(t, []resiliencetest.Transition{{From: "shared", To: "refused"}}, closedRec.StateChanges())

	srv.start()
	i := 0
	require.Eventually(t, func() bool {
		i++
		for _, s := range []*redisstore.Store{local, closed} {
			start := time.Now()
			_, _ = s.Take(t.Context(), "probe-"+strconv.Itoa(i), l, 1)
			require.Less(t, time.Since(start), timeout+slack)
		}
		return len(localRec.StateChanges()) == 2 && len(closedRec.StateChanges()) == 2
	}, 10*time.Second, 10*time.Millisecond, "Redis answers again")
	assert.Equal(t, resiliencetest.Transition{From: "local", To: "shared"}, localRec.StateChanges()[1])
	assert.Equal(t, resiliencetest.Transition{From: "refused", To: "shared"}, closedRec.StateChanges()[1])
	requireShared("after")
}
