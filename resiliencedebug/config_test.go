package resiliencedebug_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience/resiliencedebug"
)

func TestConfigValidate(t *testing.T) {
	allow := func(*http.Request) bool { return true }
	assert.NoError(t, resiliencedebug.Config{}.Validate())
	assert.NoError(t, resiliencedebug.Config{Actions: true, Authorize: allow, MaxNames: 5}.Validate())
	assert.ErrorContains(t, resiliencedebug.Config{Actions: true}.Validate(), "resiliencedebug: Actions requires Authorize")
	assert.ErrorContains(t, resiliencedebug.Config{MaxNames: -1}.Validate(), "resiliencedebug: MaxNames must not be negative")
}

func TestNewPanicsOnActionsWithoutAuthorize(t *testing.T) {
	assert.PanicsWithValue(t, "resiliencedebug: Actions requires Authorize", func() {
		resiliencedebug.New(resiliencedebug.Config{Actions: true})
	})
	assert.PanicsWithValue(t, "resiliencedebug: MaxNames must not be negative", func() {
		resiliencedebug.New(resiliencedebug.Config{MaxNames: -1})
	})
}

func TestZeroConfigHasNoActions(t *testing.T) {
	d := resiliencedebug.New(resiliencedebug.Config{})
	require.NotNil(t, d)
	assert.False(t, d.Snapshot().Actions)
}
