package redisstore

import (
	"context"

	"github.com/redis/go-redis/v9"

	"github.com/magicmagnets/resilience/ratelimit"
)

// TakeAs runs the script as Take does but under the given request id, as a
// re-send of the same command would.
func (s *Store) TakeAs(ctx context.Context, id, key string, l ratelimit.Limit, n int) (ratelimit.Decision, error) {
	return s.run(ctx, id, key, norm(l), n)
}

// ParseTake is parseTake, for replies Redis would not send.
func ParseTake(cmd *redis.Cmd, l ratelimit.Limit) (ratelimit.Decision, error) {
	return parseTake(cmd, norm(l))
}
