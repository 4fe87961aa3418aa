package retry

import "context"

type attemptKey struct{}

// attemptContext carries the attempt number. It is a dedicated type rather
// than context.WithValue so that Attempt needs no interface conversion and
// the value costs one small allocation per attempt.
type attemptContext struct {
	context.Context
	attempt int
}

func (c *attemptContext) Value(key any) any {
	if key == (attemptKey{}) {
		return c
	}
	return c.Context.Value(key)
}

// Attempt returns the number of the attempt whose context ctx is (or is
// derived from), counting from 1, or 0 when ctx is not inside a retry. Of
// nested retry policies, the innermost one answers.
func Attempt(ctx context.Context) int {
	if c, ok := ctx.Value(attemptKey{}).(*attemptContext); ok {
		return c.attempt
	}
	return 0
}
