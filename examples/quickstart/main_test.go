package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestQuickstartSucceedsOnThirdAttempt runs the program's scenario: a
// refused call, a hung call cut by the per-attempt timeout, then success.
func TestQuickstartSucceedsOnThirdAttempt(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out))
	t.Log("\n" + out.String())

	assert.Contains(t, out.String(), "attempt 1 failed: connection refused; waiting")
	assert.Contains(t, out.String(), "attempt 2 failed: timeout:")
	assert.Contains(t, out.String(), `outcome: "EUR/USD 1.0842" after 3 attempts`)
	assert.NotContains(t, out.String(), "giving up")
}
