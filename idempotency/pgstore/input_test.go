package pgstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/idempotency/pgstore"
)

// badInput is one call with bad input and how a store must answer it.
type badInput struct {
	name string
	call func(ctx context.Context, s idempotency.Store, key string) error
}

var badInputs = []badInput{
	{"empty key", func(ctx context.Context, s idempotency.Store, _ string) error {
		_, err := s.Claim(ctx, "", "fp", time.Minute)
		return err
	}},
	{"key one byte too long", func(ctx context.Context, s idempotency.Store, _ string) error {
		_, err := s.Claim(ctx, strings.Repeat("k", idempotency.MaxKeyLen+1), "fp", time.Minute)
		return err
	}},
	{"complete with an empty key", func(ctx context.Context, s idempotency.Store, _ string) error {
		return s.Complete(ctx, "", idempotency.Lock{Token: "t", Fence: 1}, nil, time.Minute)
	}},
	{"zero lease", func(ctx context.Context, s idempotency.Store, key string) error {
		_, err := s.Claim(ctx, key, "fp", 0)
		return err
	}},
	{"negative retention", func(ctx context.Context, s idempotency.Store, key string) error {
		c, err := s.Claim(ctx, key, "fp", time.Minute)
		if err != nil {
			return err
		}
		return s.Complete(ctx, key, c.Lock, []byte("r"), -time.Second)
	}},
	{"binary key at the length limit", func(ctx context.Context, s idempotency.Store, key string) error {
		k := key + strings.Repeat("\x00\xff", idempotency.MaxKeyLen)[:idempotency.MaxKeyLen-len(key)]
		c, err := s.Claim(ctx, k, "fp\x00", time.Minute)
		if err != nil {
			return err
		}
		return s.Complete(ctx, k, c.Lock, []byte("\x00"), time.Minute)
	}},
	{"oversized result", func(ctx context.Context, s idempotency.Store, key string) error {
		c, err := s.Claim(ctx, key, "fp", time.Minute)
		if err != nil {
			return err
		}
		err = s.Complete(ctx, key, c.Lock, make([]byte, idempotency.DefaultMaxResultSize+1), time.Minute)
		if _, again := s.Claim(ctx, key, "fp", time.Minute); again != nil {
			return errors.Join(err, again) // the key was not released
		}
		return err
	}},
	{"foreign lock", func(ctx context.Context, s idempotency.Store, key string) error {
		if _, err := s.Claim(ctx, key, "fp", time.Minute); err != nil {
			return err
		}
		return s.Complete(ctx, key, idempotency.Lock{Token: "not-mine", Fence: 1}, nil, time.Minute)
	}},
}

// sentinel names the idempotency error err matches, or "nil".
func sentinel(err error) string {
	for _, s := range []error{
		idempotency.ErrInvalidKey, idempotency.ErrInvalidDuration, idempotency.ErrResultTooLarge,
		idempotency.ErrLockLost, idempotency.ErrInProgress, idempotency.ErrMismatch,
	} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	if err != nil {
		return "other: " + err.Error()
	}
	return "nil"
}

func TestBadInputGivesTheSameErrorsAsTheMemoryStore(t *testing.T) {
	s := pgstore.New(newPool(t), pgstore.Config{})
	mem := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	for i, in := range badInputs {
		t.Run(in.name, func(t *testing.T) {
			key := "input:" + idempotency.NewKey() + string(rune('a'+i))
			want := sentinel(in.call(t.Context(), mem, key))
			require.NotContains(t, want, "other", "the memory store's answer")
			assert.Equal(t, want, sentinel(in.call(t.Context(), s, key)))
		})
	}
}
