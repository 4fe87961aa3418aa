package resiliencehttp_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/magicmagnets/resilience/resiliencehttp"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, time.March, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header string
		want   time.Duration
		ok     bool
	}{
		{"seconds", "120", 2 * time.Minute, true},
		{"zero seconds", "0", 0, true},
		{"seconds with spaces", "  5 ", 5 * time.Second, true},
		{"seconds too large for a duration", "99999999999999999999999", math.MaxInt64, true},
		{"seconds just over the largest duration", "9223372037", math.MaxInt64, true},
		{"IMF-fixdate", "Sat, 01 Mar 2025 12:00:30 GMT", 30 * time.Second, true},
		{"obsolete RFC 850 date", "Saturday, 01-Mar-25 12:01:00 GMT", time.Minute, true},
		{"obsolete asctime date", "Sat Mar  1 12:00:10 2025", 10 * time.Second, true},
		{"date in the past", "Sat, 01 Mar 2025 11:00:00 GMT", 0, true},
		{"empty", "", 0, false},
		{"blank", "   ", 0, false},
		{"negative", "-5", 0, false},
		{"signed", "+5", 0, false},
		{"fraction", "1.5", 0, false},
		{"unit", "5s", 0, false},
		{"word", "soon", 0, false},
		{"date without zone", "Sat, 01 Mar 2025 12:00:30", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := resiliencehttp.ParseRetryAfter(tt.header, now)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}
