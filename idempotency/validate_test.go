package idempotency_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/magicmagnets/resilience/idempotency"
)

// Each Validate is checked against its constructor: a config Validate
// rejects makes the constructor panic, and one it accepts does not.

func TestConfigValidateReportsWhatNewPolicyPanicsOn(t *testing.T) {
	store := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	bad := []idempotency.Config{{Lease: -1}, {Retention: -time.Hour}}
	good := []idempotency.Config{{}, {Lease: time.Second, Retention: time.Minute, Wait: true, RequireKey: true}}
	for _, c := range bad {
		err := c.Validate()
		assert.ErrorIs(t, err, idempotency.ErrInvalidDuration, "%+v", c)
		assert.Panics(t, func() { idempotency.NewPolicy(store, c) }, "%+v", c)
	}
	for _, c := range good {
		assert.NoError(t, c.Validate(), "%+v", c)
		assert.NotPanics(t, func() { idempotency.NewPolicy(store, c) }, "%+v", c)
	}
}

func TestMiddlewareConfigValidateReportsWhatMiddlewarePanicsOn(t *testing.T) {
	store := idempotency.NewMemoryStore(idempotency.MemoryConfig{})
	bad := map[string]idempotency.MiddlewareConfig{
		"MaxBodySize":          {MaxBodySize: -1},
		"MaxResponseSize":      {MaxResponseSize: -1},
		"Lease":                {Lease: -time.Second},
		"Retention":            {Retention: -time.Second},
		"InProgressRetryAfter": {InProgressRetryAfter: -time.Second},
	}
	for field, c := range bad {
		err := c.Validate()
		if assert.Error(t, err, field) {
			assert.Contains(t, err.Error(), "MiddlewareConfig."+field)
		}
		assert.Panics(t, func() { idempotency.Middleware(store, c) }, field)
	}
	for _, c := range []idempotency.MiddlewareConfig{{}, {MaxBodySize: math.MaxInt64, MaxResponseSize: 1, Lease: time.Second}} {
		assert.NoError(t, c.Validate(), "%+v", c)
		assert.NotPanics(t, func() { idempotency.Middleware(store, c) }, "%+v", c)
	}
	assert.ErrorIs(t, bad["Lease"].Validate(), idempotency.ErrInvalidDuration)
}

func TestMemoryConfigValidateReportsWhatNewMemoryStorePanicsOn(t *testing.T) {
	bad := map[string]idempotency.MemoryConfig{
		"MaxEntries":    {MaxEntries: -1},
		"MaxBytes":      {MaxBytes: -1},
		"MaxResultSize": {MaxResultSize: -1},
	}
	for field, c := range bad {
		err := c.Validate()
		if assert.Error(t, err, field) {
			assert.Equal(t, fmt.Sprintf("idempotency: negative MemoryConfig.%s -1", field), err.Error())
		}
		assert.Panics(t, func() { idempotency.NewMemoryStore(c) }, field)
	}
	for _, c := range []idempotency.MemoryConfig{{}, {MaxEntries: 1, MaxBytes: 1, MaxResultSize: 1}} {
		assert.NoError(t, c.Validate(), "%+v", c)
		assert.NotPanics(t, func() { idempotency.NewMemoryStore(c) }, "%+v", c)
	}
}
