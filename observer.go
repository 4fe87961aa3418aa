package resilience

import (
	"context"
	"log/slog"
	"maps"
	"time"
)

// Kind names what happened in an [Event].
type Kind string

// The kinds of event the policies in this module emit. Each package's doc
// says which of them it emits and which Event fields it fills.
const (
	KindRetry       Kind = "retry"        // an attempt failed and another is scheduled after Delay
	KindGiveUp      Kind = "give_up"      // a retry policy stopped: attempts, time or budget ran out, or the error was permanent
	KindTimeout     Kind = "timeout"      // a deadline fired before the operation returned
	KindStateChange Kind = "state_change" // a breaker moved From one state To another
	KindRejected    Kind = "rejected"     // a call was refused without running (open breaker, full bulkhead, rate or adaptive limit, denied budget)
	KindSlowCall    Kind = "slow_call"    // a call took longer than the configured slow-call duration
	KindReplay      Kind = "replay"       // an idempotency key's recorded result was returned instead of running
	KindFallback    Kind = "fallback"     // a fallback ran in place of a failed call
	KindRecorded    Kind = "recorded"     // an idempotency outcome was recorded after the store had failed to take it
	KindCall        Kind = "call"         // a call of the policy finished: Duration is how long it took, Err its outcome (nil: success)
	KindHedge       Kind = "hedge"        // a hedged attempt started after Delay, with Attempt its number
	KindLimitChange Kind = "limit_change" // an adaptive limit moved From one value To another (decimal integers)
)

// Event is a small value describing one thing a policy did. Fields that do
// not apply to a Kind are zero.
type Event struct {
	Policy  string // the emitting package: "retry", "breaker", "timeout", ...
	Name    string // the policy instance's configured name, if any
	Kind    Kind   // what happened
	Attempt int    // 1-based attempt number, where it applies
	// Delay is a wait: before the next attempt (KindRetry), or until a
	// rejected caller may come back (KindRejected).
	Delay time.Duration
	// Duration is how long something ran (KindCall, KindSlowCall) or was
	// allowed to run (KindTimeout).
	Duration time.Duration
	Err      error  // the outcome or the error that caused the event, if any
	From     string // previous state (KindStateChange) or limit (KindLimitChange)
	To       string // new state (KindStateChange) or limit (KindLimitChange)
}

// Observer receives events from policies. Observe is called synchronously on
// the goroutine of the call that caused the event, never while a policy holds
// a lock, so it may call back into the policy (a breaker's State, say). It
// must be safe for concurrent use and should return quickly.
//
// A nil Observer in a policy's Config means no events; emitting none costs
// nothing.
type Observer interface {
	Observe(Event)
}

// ObserverFunc adapts a function to an [Observer].
type ObserverFunc func(Event)

// Observe calls f(e).
func (f ObserverFunc) Observe(e Event) { f(e) }

// SlogObserver returns an [Observer] that writes every event to logger as one
// record with the message "resilience event", at the default level of its
// kind: calls (KindCall, one per finished call of every policy), retries and
// replays at Debug; state changes, timeouts, slow calls, fallbacks and every
// other kind at Info; rejections and give-ups at Warn. A record carries the
// event's fields that are set: policy, kind, name, attempt, delay (a wait),
// duration (how long something ran or was allowed), from, to and error.
// A nil logger returns nil: no events. To choose the levels, use
// [SlogObserverLevels].
func SlogObserver(logger *slog.Logger) Observer {
	return SlogObserverLevels(logger, nil)
}

// SlogObserverLevels is [SlogObserver] with the level of some kinds set by
// levels; a kind levels does not name keeps its default level. To see
// retries at Info:
//
//	obs := resilience.SlogObserverLevels(logger, map[resilience.Kind]slog.Level{
//		resilience.KindRetry: slog.LevelInfo,
//	})
//
// levels is copied: changing the map later changes nothing. A nil logger
// returns nil: no events.
func SlogObserverLevels(logger *slog.Logger, levels map[Kind]slog.Level) Observer {
	if logger == nil {
		return nil
	}
	return slogObserver{l: logger, levels: maps.Clone(levels)}
}

type slogObserver struct {
	l      *slog.Logger
	levels map[Kind]slog.Level // overrides of the default levels; read only
}

// level returns the level at which events of kind k are logged.
func (o slogObserver) level(k Kind) slog.Level {
	if l, ok := o.levels[k]; ok {
		return l
	}
	switch k {
	case KindCall, KindRetry, KindReplay:
		return slog.LevelDebug
	case KindRejected, KindGiveUp:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

func (o slogObserver) Observe(e Event) {
	level := o.level(e.Kind)
	ctx := context.Background()
	if !o.l.Enabled(ctx, level) {
		return
	}
	attrs := make([]slog.Attr, 0, 9)
	attrs = append(attrs, slog.String("policy", e.Policy), slog.String("kind", string(e.Kind)))
	if e.Name != "" {
		attrs = append(attrs, slog.String("name", e.Name))
	}
	if e.Attempt != 0 {
		attrs = append(attrs, slog.Int("attempt", e.Attempt))
	}
	if e.Delay != 0 {
		attrs = append(attrs, slog.Duration("delay", e.Delay))
	}
	if e.Duration != 0 {
		attrs = append(attrs, slog.Duration("duration", e.Duration))
	}
	if e.From != "" || e.To != "" {
		attrs = append(attrs, slog.String("from", e.From), slog.String("to", e.To))
	}
	if e.Err != nil {
		attrs = append(attrs, slog.String("error", e.Err.Error()))
	}
	o.l.LogAttrs(ctx, level, "resilience event", attrs...)
}
