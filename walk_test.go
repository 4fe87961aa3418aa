package resilience

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

type hintErr time.Duration

func (h hintErr) Error() string             { return "hint " + time.Duration(h).String() }
func (h hintErr) RetryAfter() time.Duration { return time.Duration(h) }

type markErr bool

func (m markErr) Error() string   { return fmt.Sprintf("marked %t", bool(m)) }
func (m markErr) Permanent() bool { return bool(m) }

// asErr answers errors.As through its As method with hint and mark (when
// set), and wraps inner.
type asErr struct {
	hint  *hintErr
	mark  *markErr
	inner error
}

func (a asErr) Error() string { return "as" }
func (a asErr) Unwrap() error { return a.inner }
func (a asErr) As(target any) bool {
	switch p := target.(type) {
	case *interface{ RetryAfter() time.Duration }:
		if a.hint != nil {
			*p = *a.hint
			return true
		}
	case *interface{ Permanent() bool }:
		if a.mark != nil {
			*p = *a.mark
			return true
		}
	}
	return false
}

func ptr[T any](v T) *T { return &v }

// TestLookupsMatchErrorsAs: the allocation-free lookups give errors.As's
// answer (through resilience.IsPermanent and resilience.RetryAfter) for
// every shape of tree, As methods included: an As method met before a
// matching error answers first, as errors.As asks it first.
func TestLookupsMatchErrorsAs(t *testing.T) {
	plain := errors.New("plain")
	trees := map[string]error{
		"nil":                       nil,
		"plain":                     plain,
		"hint":                      hintErr(time.Second),
		"wrapped hint":              fmt.Errorf("a: %w", hintErr(time.Second)),
		"zero hint first":           errors.Join(hintErr(0), hintErr(time.Second)),
		"join, hint second":         errors.Join(plain, hintErr(2*time.Second)),
		"multi-%w":                  fmt.Errorf("%w %w", plain, fmt.Errorf("b: %w", hintErr(3*time.Second))),
		"As before a deeper hint":   fmt.Errorf("c: %w", asErr{hint: ptr(hintErr(5 * time.Second)), inner: hintErr(3 * time.Second)}),
		"As that declines":          asErr{inner: hintErr(3 * time.Second)},
		"As inside a join":          errors.Join(plain, asErr{hint: ptr(hintErr(4 * time.Second))}),
		"hint before an As":         errors.Join(hintErr(time.Second), asErr{hint: ptr(hintErr(4 * time.Second))}),
		"permanent":                 Permanent(plain),
		"wrapped permanent":         fmt.Errorf("d: %w", Permanent(plain)),
		"false marker first":        fmt.Errorf("e: %w", errors.Join(markErr(false), Permanent(plain))),
		"As says not permanent":     asErr{mark: ptr(markErr(false)), inner: Permanent(plain)},
		"As says permanent":         fmt.Errorf("f: %w", asErr{mark: ptr(markErr(true)), inner: plain}),
		"permanent with a hint":     Permanent(hintErr(time.Minute)),
		"As hint and mark, wrapped": errors.Join(plain, asErr{hint: ptr(hintErr(time.Hour)), mark: ptr(markErr(true))}),
	}
	for name, err := range trees {
		var h interface{ RetryAfter() time.Duration }
		wantOK := errors.As(err, &h)
		var wantHint time.Duration
		if wantOK {
			wantHint = h.RetryAfter()
		}
		var m interface{ Permanent() bool }
		wantPermanent := errors.As(err, &m) && m.Permanent()

		gotHint, gotOK := RetryAfter(err)
		assert.Equal(t, wantOK, gotOK, "%s: hint found", name)
		assert.Equal(t, wantHint, gotHint, "%s: hint", name)
		assert.Equal(t, wantPermanent, IsPermanent(err), "%s: permanent", name)
	}
	// The cases a walk that ignored As methods would get wrong, spelled out.
	h, _ := RetryAfter(trees["As before a deeper hint"])
	assert.Equal(t, 5*time.Second, h, "the As method answers before the error it wraps")
	assert.False(t, IsPermanent(trees["As says not permanent"]))
	assert.False(t, IsPermanent(trees["false marker first"]))
}

// TestLookupsAllocateNothingWithoutAsMethods: the reason walk.go exists.
func TestLookupsAllocateNothingWithoutAsMethods(t *testing.T) {
	err := fmt.Errorf("call: %w", errors.Join(errors.New("x"), hintErr(time.Second)))
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = RetryAfter(err)
		_ = IsPermanent(err)
	})
	assert.Zero(t, allocs)
}
