package main

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestQuickstartSucceedsOnThirdAttempt runs the program's scenario: a
// refused call, a hung call cut by the per-attempt timeout, then success.
func TestQuickstartSucceedsOnThirdAttempt(t *testing.T) {
	if err := run(); err != nil {
		t.Fatalf("run: %v", err)
	}
}
