package pgstore_test

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/pgstore"
)

// storeVia returns a store on a pool of maxConns connections through p,
// with the default table migrated. Connecting is bounded by the store's
// timeout, as the package doc advises.
func storeVia(t *testing.T, p *silencer, maxConns int32, timeout time.Duration) *pgstore.Store {
	cfg, err := pgxpool.ParseConfig(databaseURL(t))
	require.NoError(t, err)
	host, port, err := net.SplitHostPort(p.addr())
	require.NoError(t, err)
	cfg.ConnConfig.Host = host
	_, err = fmt.Sscan(port, &cfg.ConnConfig.Port)
	require.NoError(t, err)
	cfg.MaxConns = maxConns
	cfg.ConnConfig.ConnectTimeout = timeout
	return pgstore.New(openPool(t, cfg), pgstore.Config{Timeout: timeout})
}

func databaseAddr(t *testing.T) string {
	cfg, err := pgxpool.ParseConfig(databaseURL(t))
	require.NoError(t, err)
	return net.JoinHostPort(cfg.ConnConfig.Host, fmt.Sprint(cfg.ConnConfig.Port))
}

// A statement whose reply never comes is cut off at the timeout and sent
// again on a new connection; the first send was applied, and the second
// gets the answer the first would have had.
func TestStatementCutOffByTheTimeoutIsSentAgainOnAnotherConnection(t *testing.T) {
	p := startSilencer(t, databaseAddr(t))
	const timeout = 300 * time.Millisecond
	s := storeVia(t, p, 1, timeout) // one connection: the second send has a new one
	ctx, key := t.Context(), "resend:"+idempotency.NewKey()
	_, err := s.Claim(ctx, key+":warm", "fp", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)

	token := idempotency.NewToken()
	p.silenceExisting()
	start := time.Now()
	c, err := s.Claim(ctx, key, "fp", token, time.Minute)
	require.NoError(t, err, "the second send, on a new connection, succeeds")
	assert.GreaterOrEqual(t, time.Since(start), timeout, "the first send waited for its timeout")
	assert.Equal(t, idempotency.Lock{Token: token, Fence: 1}, c.Lock, "the re-sent claim found the first send's record")

	p.silenceExisting()
	require.NoError(t, s.Extend(ctx, key, c.Lock, time.Minute))
	p.silenceExisting()
	require.NoError(t, s.Complete(ctx, key, c.Lock, []byte("r"), time.Minute), "the re-sent complete found the first send's result")
	replay, err := s.Claim(ctx, key, "fp", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	assert.Equal(t, []byte("r"), replay.Result)

	r, err := s.Claim(ctx, key+":released", "fp", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)
	p.silenceExisting()
	require.NoError(t, s.Release(ctx, key+":released", r.Lock, time.Minute), "the re-sent release found the record released")
}

// Over a link that stays silent, a call returns within its two sends'
// timeouts, and the claimer, claiming again once the link is back, owns the
// key its lost claim took.
func TestTimeoutBoundsEveryCallOverASilentLink(t *testing.T) {
	p := startSilencer(t, databaseAddr(t))
	const timeout = 200 * time.Millisecond
	s := storeVia(t, p, 4, timeout)
	ctx, key := t.Context(), "silent:"+idempotency.NewKey()
	_, err := s.Claim(ctx, key+":warm", "fp", idempotency.NewToken(), time.Minute)
	require.NoError(t, err)

	token := idempotency.NewToken()
	p.all.Store(true)
	start := time.Now()
	_, err = s.Claim(ctx, key, "fp", token, time.Minute)
	elapsed := time.Since(start)
	p.all.Store(false)
	assert.ErrorContains(t, err, "pgstore: claim")
	assert.GreaterOrEqual(t, elapsed, timeout)
	assert.Less(t, elapsed, 2*timeout+time.Second, "two sends, each bounded by the timeout")

	c, err := s.Claim(ctx, key, "fp", token, time.Minute)
	require.NoError(t, err)
	assert.Equal(t, idempotency.Lock{Token: token, Fence: 1}, c.Lock, "the lost claim's record, owned at once")
}
