package redisstore_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/ratelimit"
	"github.com/magicmagnets/resilience/ratelimit/redisstore"
)

var hourly = ratelimit.Limit{Rate: 1, Per: time.Hour, Burst: 20}

func TestReSentTakeGetsTheFirstDecisionAndTakesNothing(t *testing.T) {
	s := redisstore.New(newClient(t), redisstore.Config{Prefix: unique("resend")})
	ctx := t.Context()
	first, err := s.TakeAs(ctx, "id-1", "k", hourly, 3)
	require.NoError(t, err)
	require.True(t, first.Allowed)
	require.Equal(t, 17, first.Remaining)

	time.Sleep(2 * time.Millisecond) // a later send would see a shorter ResetAfter
	again, err := s.TakeAs(ctx, "id-1", "k", hourly, 3)
	require.NoError(t, err)
	assert.Equal(t, first, again, "the re-send gets the recorded decision")

	d, err := s.TakeAs(ctx, "id-2", "k", hourly, 1)
	require.NoError(t, err)
	assert.Equal(t, 16, d.Remaining, "the re-send took nothing")
}

func TestReSentDenialIsDecidedAgain(t *testing.T) {
	s := redisstore.New(newClient(t), redisstore.Config{Prefix: unique("resend-denied")})
	ctx := t.Context()
	l := ratelimit.Limit{Rate: 1, Per: 100 * time.Millisecond, Burst: 1}
	_, err := s.TakeAs(ctx, "id-1", "k", l, 1)
	require.NoError(t, err)
	d, err := s.TakeAs(ctx, "id-2", "k", l, 1)
	require.NoError(t, err)
	require.False(t, d.Allowed)

	time.Sleep(d.RetryAfter + time.Millisecond)
	d, err = s.TakeAs(ctx, "id-2", "k", l, 1)
	require.NoError(t, err)
	assert.True(t, d.Allowed, "a denial recorded nothing, so its re-send may take")
	d, err = s.TakeAs(ctx, "id-2", "k", l, 1)
	require.NoError(t, err)
	assert.True(t, d.Allowed, "and that take is recognised in turn")
	d, err = s.TakeAs(ctx, "id-3", "k", l, 1)
	require.NoError(t, err)
	assert.False(t, d.Allowed)
}

func TestReSentTakeIsRecognisedAfterSevenOthers(t *testing.T) {
	s := redisstore.New(newClient(t), redisstore.Config{Prefix: unique("resend-window")})
	ctx := t.Context()
	take := func(id string) ratelimit.Decision {
		t.Helper()
		d, err := s.TakeAs(ctx, id, "k", hourly, 1)
		require.NoError(t, err)
		require.True(t, d.Allowed)
		return d
	}
	first := take("first")
	for i := range 7 {
		take("other-" + strconv.Itoa(i))
	}
	assert.Equal(t, first, take("first"), "seven later takes keep the record")
	// The eighth take since "first" overwrites its record: past the
	// documented window, a re-send takes again.
	remaining := take("other-7").Remaining
	assert.Equal(t, remaining-1, take("first").Remaining)
}

// A re-send that go-redis itself makes carries the same request id, since
// the id is an argument of the command: this checks the id reaches Redis
// as the script's first argument, unchanged between sends.
func TestRequestIDIsTheScriptsFirstArgument(t *testing.T) {
	client := newClient(t)
	var args [][]any
	client.AddHook(argsHook(func(a []any) { args = append(args, a) }))
	s := redisstore.New(client, redisstore.Config{Prefix: unique("ids")})
	for range 2 {
		_, err := s.Take(t.Context(), "k", hourly, 1)
		require.NoError(t, err)
	}
	require.Len(t, args, 2)
	id0, ok0 := args[0][4].(string) // evalsha sha numkeys key id ...
	id1, ok1 := args[1][4].(string)
	require.True(t, ok0 && ok1, "%v", args)
	assert.NotEqual(t, id0, id1, "each Take has its own id")
	assert.Regexp(t, `^[0-9A-Za-z_-]{11}\.[0-9a-z]+$`, id0, "64 random bits in base64url, a dot, a counter in base 36")
}

// argsHook calls f with the arguments of every command the client sends.
type argsHook func([]any)

func (argsHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (f argsHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		f(cmd.Args())
		return next(ctx, cmd)
	}
}

func (argsHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
