package resilience_test

import (
	"errors"
	"log/slog"
	"os"
	"time"

	"github.com/magicmagnets/resilience"
)

// Retries are logged at Debug by default; here they are raised to Info, so
// a logger at Info shows them.
func ExampleSlogObserverLevels() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // drop the time, for a stable output
			}
			return a
		},
	}))
	obs := resilience.SlogObserverLevels(logger, map[resilience.Kind]slog.Level{
		resilience.KindRetry: slog.LevelInfo,
	})

	obs.Observe(resilience.Event{Policy: "retry", Kind: resilience.KindRetry, Attempt: 1, Delay: 100 * time.Millisecond, Err: errors.New("connection reset")})
	obs.Observe(resilience.Event{Policy: "idempotency", Kind: resilience.KindReplay}) // still Debug: not shown
	// Output:
	// level=INFO msg="resilience event" policy=retry kind=retry attempt=1 delay=100ms error="connection reset"
}
