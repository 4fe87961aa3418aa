package ratelimit_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/ratelimit"
)

func TestValidateAcceptsTheDefaults(t *testing.T) {
	assert.NoError(t, ratelimit.Config{Rate: 1}.Validate())
	assert.NoError(t, ratelimit.Config{Rate: 0.5, Per: time.Minute, Burst: 3, MaxWait: time.Second}.Validate())
	assert.NoError(t, ratelimit.Config{Rate: 1, Store: ratelimit.NewMemoryStore(0), Key: "api"}.Validate())
	assert.NoError(t, ratelimit.Config{Rate: 1, Store: ratelimit.NewMemoryStore(0), Key: strings.Repeat("k", ratelimit.MaxKeyLen)}.Validate())
}

func TestValidateAndNewRejectBadInput(t *testing.T) {
	store := ratelimit.NewMemoryStore(0)
	for _, tc := range []struct {
		name string
		c    ratelimit.Config
		msg  string
	}{
		{"zero rate", ratelimit.Config{}, "ratelimit: Rate 0 is not positive and finite"},
		{"negative rate", ratelimit.Config{Rate: -1}, "ratelimit: Rate -1 is not positive and finite"},
		{"NaN rate", ratelimit.Config{Rate: math.NaN()}, "ratelimit: Rate NaN is not positive and finite"},
		{"infinite rate", ratelimit.Config{Rate: math.Inf(1)}, "ratelimit: Rate +Inf is not positive and finite"},
		{"negative Per", ratelimit.Config{Rate: 1, Per: -time.Second}, "ratelimit: negative Per -1s"},
		{"negative Burst", ratelimit.Config{Rate: 1, Burst: -1}, "ratelimit: negative Burst -1"},
		{"negative MaxWait", ratelimit.Config{Rate: 1, MaxWait: -time.Millisecond}, "ratelimit: negative MaxWait -1ms"},
		{"Store without Key", ratelimit.Config{Rate: 1, Store: store}, "ratelimit: a Store needs a Key"},
		{"Key without Store", ratelimit.Config{Rate: 1, Key: "api"}, `ratelimit: Key "api" set without a Store`},
		{"Key too long", ratelimit.Config{Rate: 1, Store: store, Key: strings.Repeat("k", ratelimit.MaxKeyLen+1)}, "ratelimit: Key of 1025 bytes, longer than MaxKeyLen (1024)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.c.Validate()
			require.Error(t, err)
			assert.Equal(t, tc.msg, err.Error())
			assert.PanicsWithValue(t, tc.msg, func() { ratelimit.New(tc.c) })
			assert.PanicsWithValue(t, tc.msg, func() { ratelimit.NewKeyed(tc.c, 0) })
		})
	}
}

func TestNewKeyedAndNewMemoryStoreRejectANegativeBound(t *testing.T) {
	assert.PanicsWithValue(t, "ratelimit: NewKeyed: negative maxKeys -1", func() { ratelimit.NewKeyed(ratelimit.Config{Rate: 1}, -1) })
	assert.PanicsWithValue(t, "ratelimit: NewMemoryStore: negative maxKeys -1", func() { ratelimit.NewMemoryStore(-1) })
}
