package redisstore_test

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/ratelimit"
	"github.com/magicmagnets/resilience/ratelimit/redisstore"
	"github.com/magicmagnets/resilience/resiliencetest"
)

func TestKeyHoldingSomethingElseIsAnErrorNotAnOutage(t *testing.T) {
	client := newClient(t)
	ctx := t.Context()
	for _, failClosed := range []bool{false, true} {
		prefix := unique("garbage")
		var rec resiliencetest.Recorder
		s := redisstore.New(client, redisstore.Config{Prefix: prefix, FailClosed: failClosed, Observer: &rec})
		for key, value := range map[string]string{
			"string":       "someone else's",
			"empty":        "",
			"half-tat":     "1764547200 0",
			"bad-tat":      "soon 0|id-0 1 1",
			"glued":        "1764547200 0 1x",
			"bad-record":   "1764547200 0 1|id-1 many",
			"short-record": "1764547200 0 1|id-1 5",
		} {
			require.NoError(t, client.Set(ctx, prefix+key, value, time.Minute).Err())
		}
		require.NoError(t, client.RPush(ctx, prefix+"list", "x").Err())
		require.NoError(t, client.HSet(ctx, prefix+"hash", "ts", "1764547200", "tn", "0").Err())
		for key, want := range map[string]string{
			"string":       "malformed limit",
			"empty":        "malformed limit",
			"half-tat":     "malformed limit",
			"bad-tat":      "malformed limit",
			"glued":        "malformed limit",
			"bad-record":   "malformed record",
			"short-record": "malformed record",
			"list":         "WRONGTYPE",
			"hash":         "WRONGTYPE",
		} {
			d, err := s.TakeAs(ctx, "id-1", key, hourly, 1)
			require.Error(t, err, key)
			assert.Contains(t, err.Error(), "redisstore: not a limit", key)
			assert.Contains(t, err.Error(), want, key)
			assert.NotErrorIs(t, err, redisstore.ErrUnavailable, key)
			assert.Zero(t, d)
		}
		assert.Equal(t, "someone else's", client.Get(ctx, prefix+"string").Val(), "the key is left alone")
		d, err := s.Take(ctx, "fine", hourly, 1)
		require.NoError(t, err)
		assert.True(t, d.Allowed)
		assert.Empty(t, rec.StateChanges(), "Redis answered every time")
	}
}

func TestReplyOfTheWrongShapeIsAnError(t *testing.T) {
	for _, reply := range []any{
		"OK",
		int64(1),
		nil,
		[]any{},
		[]any{int64(1), int64(0), int64(0)},
		[]any{int64(1), int64(0), int64(0), int64(0), int64(0)},
		[]any{"1", "0", "0", "0"},
		[]any{int64(2), int64(0), int64(0), int64(0)},
		[]any{int64(-1), int64(0), int64(0), int64(0)},
		[]any{int64(1), int64(-1), int64(0), int64(0)},
		[]any{int64(0), int64(0), int64(-5), int64(0)},
		[]any{int64(1), int64(0), int64(0), int64(-5)},
		[]any{int64(1), []any{}, int64(0), int64(0)},
	} {
		cmd := redis.NewCmd(t.Context())
		cmd.SetVal(reply)
		d, err := redisstore.ParseTake(cmd, hourly)
		assert.ErrorContains(t, err, "redisstore: not a limit: unexpected reply", "%#v", reply)
		assert.Zero(t, d)
	}
}

func TestReplyIsReadIntoADecision(t *testing.T) {
	for _, c := range []struct {
		reply []any
		want  ratelimit.Decision
	}{
		{[]any{int64(1), int64(3), int64(0), int64(7)}, ratelimit.Decision{Allowed: true, Remaining: 3, ResetAfter: 7}},
		{[]any{int64(0), int64(0), int64(9), int64(7)}, ratelimit.Decision{RetryAfter: 9, ResetAfter: 7}},
		// The script's largest number stands for anything larger.
		{[]any{int64(0), int64(1<<63 - 1024), int64(1<<63 - 1024), int64(1<<63 - 1024)},
			ratelimit.Decision{Remaining: 20, RetryAfter: 1<<63 - 1, ResetAfter: 1<<63 - 1}},
		{[]any{int64(1), int64(21), int64(0), int64(0)}, ratelimit.Decision{Allowed: true, Remaining: 20}},
	} {
		cmd := redis.NewCmd(t.Context())
		cmd.SetVal(c.reply)
		d, err := redisstore.ParseTake(cmd, hourly)
		require.NoError(t, err)
		assert.Equal(t, c.want, d, "%v", c.reply)
	}
}
