package retry_test

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/backoff"
	"github.com/magicmagnets/resilience/retry"
)

// TestNextDecidesAsDoes: Next answers with the policy's own rules:
// permanent errors, RetryIf, MaxAttempts, hints with their jitter, the
// backoff strategy and MaxDelay.
func TestNextDecidesAsDoes(t *testing.T) {
	fatal := errors.New("fatal")
	p := retry.New(retry.Config{
		MaxAttempts: 3,
		Backoff:     backoff.Exponential(time.Second, 2, time.Minute),
		MaxDelay:    3 * time.Second,
		RetryIf:     func(err error) bool { return !errors.Is(err, fatal) },
		Rand:        fixedRand(0.5),
	})
	for _, tc := range []struct {
		name    string
		attempt int
		err     error
		delay   time.Duration
		ok      bool
	}{
		{"backoff after attempt 1", 1, errFlaky, time.Second, true},
		{"backoff after attempt 2", 2, errFlaky, 2 * time.Second, true},
		{"MaxAttempts reached", 3, errFlaky, 0, false},
		{"hint with its jitter", 1, hinted{2 * time.Second}, 2*time.Second + 100*time.Millisecond, true},
		{"hint capped at MaxDelay, jitter on top", 1, hinted{time.Hour}, 3*time.Second + 150*time.Millisecond, true},
		{"zero hint: backoff", 2, hinted{0}, 2 * time.Second, true},
		{"permanent", 1, resilience.Permanent(errFlaky), 0, false},
		{"RetryIf says no", 1, fatal, 0, false},
		{"success", 1, nil, 0, false},
	} {
		d, ok := p.Next(tc.attempt, tc.err)
		assert.Equal(t, tc.ok, ok, tc.name)
		assert.Equal(t, tc.delay, d, tc.name)
	}
	d, ok := retry.New(retry.Config{MaxAttempts: -1, Backoff: backoff.Constant(time.Second)}).Next(1000, errFlaky)
	assert.True(t, ok, "unlimited attempts")
	assert.Equal(t, time.Second, d)
}

// TestDoWaitsWhatNextSays: Do's waits are Next's, for a strategy that does
// not depend on the previous delay.
func TestDoWaitsWhatNextSays(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := retry.Config{MaxAttempts: 5, Backoff: backoff.Exponential(time.Second, 3, 20*time.Second)}
		var want []time.Duration
		for n := 1; ; n++ {
			d, ok := retry.New(c).Next(n, errFlaky)
			if !ok {
				break
			}
			want = append(want, d)
		}
		require.Len(t, want, 4)
		rec, _ := doFailing(t.Context(), retry.New(c), 10, errFlaky)
		assert.Equal(t, want, rec.Gaps())
	})
}

// TestValidateReportsWhatNewPanicsOn: Validate returns an error exactly for
// the configurations New panics on, with the same message.
func TestValidateReportsWhatNewPanicsOn(t *testing.T) {
	for _, c := range []retry.Config{
		{},
		{MaxAttempts: -1, MaxElapsed: time.Second, MaxDelay: time.Second},
		{MaxElapsed: -time.Second},
		{MaxDelay: -1},
		{MaxElapsed: -1, MaxDelay: -1},
	} {
		err := c.Validate()
		if err == nil {
			assert.NotPanics(t, func() { retry.New(c) }, "%+v", c)
			continue
		}
		assert.PanicsWithValue(t, err.Error(), func() { retry.New(c) }, "%+v", c)
	}
	assert.EqualError(t, retry.Config{MaxElapsed: -1, MaxDelay: -2}.Validate(),
		"retry: negative MaxElapsed -1ns\nretry: negative MaxDelay -2ns")
}

// TestBudgetConfigValidateReportsWhatNewBudgetPanicsOn: the same for a
// budget's configuration.
func TestBudgetConfigValidateReportsWhatNewBudgetPanicsOn(t *testing.T) {
	for _, c := range []retry.BudgetConfig{
		{},
		{Ratio: 1000, MinPerSecond: -1, TTL: time.Second},
		{Ratio: -0.1},
		{Ratio: 1001},
		{TTL: -time.Second},
	} {
		err := c.Validate()
		if err == nil {
			assert.NotPanics(t, func() { retry.NewBudget(c) }, "%+v", c)
			continue
		}
		assert.PanicsWithValue(t, err.Error(), func() { retry.NewBudget(c) }, "%+v", c)
	}
	assert.Error(t, retry.BudgetConfig{Ratio: -1}.Validate())
}
