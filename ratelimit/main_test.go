package ratelimit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/resiliencetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var errBoom = errors.New("boom")

func ok(context.Context) error { return nil }

// ofKind returns the events of kind k that rec has recorded, in order.
func ofKind(rec *resiliencetest.Recorder, k resilience.Kind) []resilience.Event {
	var out []resilience.Event
	for _, e := range rec.Events() {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// wait returns the Wait of err, which must be a *LimitedError.
func waitOf(t *testing.T, err error) time.Duration {
	t.Helper()
	d, ok := resilience.RetryAfter(err)
	if !ok {
		t.Fatalf("error %v carries no RetryAfter", err)
	}
	return d
}
