package win_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"

	"github.com/magicmagnets/resilience/internal/win"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type claimer bool

func (c claimer) Claim() bool { return bool(c) }

// TestClaimOutsideARaceWins: with no Claimer in the context every attempt
// wins; with one, its answer is the answer, also through derived contexts.
func TestClaimOutsideARaceWins(t *testing.T) {
	assert.True(t, win.Claim(context.Background()))
	lost := context.WithValue(context.Background(), win.Key{}, claimer(false))
	derived, cancel := context.WithCancel(context.WithoutCancel(lost))
	defer cancel()
	assert.False(t, win.Claim(lost))
	assert.False(t, win.Claim(derived))
	assert.True(t, win.Claim(context.WithValue(context.Background(), win.Key{}, claimer(true))))
}
