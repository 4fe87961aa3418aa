package httpreject

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/magicmagnets/resilience"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type refusal struct {
	rate bool
	wait time.Duration
}

func (r refusal) Error() string             { return "refused" }
func (r refusal) Is(t error) bool           { return t == resilience.ErrRejected }
func (r refusal) RateLimited() bool         { return r.rate }
func (r refusal) RetryAfter() time.Duration { return r.wait }
func answer(err error) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	Write(w, err)
	return w
}

func TestRateRefusalIs429WithRetryAfterRoundedUp(t *testing.T) {
	w := answer(fmt.Errorf("wrapped: %w", refusal{rate: true, wait: 1500 * time.Millisecond}))
	assert.Equal(t, http.StatusTooManyRequests, w.Code)
	assert.Equal(t, "2", w.Header().Get("Retry-After"))
	assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
	var p struct {
		Status int    `json:"status"`
		Title  string `json:"title"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p))
	assert.Equal(t, 429, p.Status)
	assert.Equal(t, "Too many requests", p.Title)
}

func TestCapacityRefusalIs503(t *testing.T) {
	w := answer(refusal{wait: 10 * time.Millisecond})
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, "1", w.Header().Get("Retry-After"), "a wait under a second is one second, never zero")
}

func TestRefusalWithoutHintHasNoRetryAfter(t *testing.T) {
	w := answer(errors.New("full"))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Empty(t, w.Header().Get("Retry-After"))
	assert.True(t, json.Valid(w.Body.Bytes()))
}

func TestRetryAfterFormatting(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "", -time.Second: "", time.Nanosecond: "1", time.Second: "1",
		time.Second + 1: "2", 90 * time.Second: "90",
	} {
		assert.Equal(t, want, RetryAfter(d), "RetryAfter(%v)", d)
	}
}
