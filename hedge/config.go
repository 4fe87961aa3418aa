package hedge

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/retry"
)

// MaxHedgesCap is the most hedges a call may make: a larger
// Config.MaxHedges is cut to it. Each hedge adds one send of the request;
// beyond a handful the extra load buys nothing a budget would allow.
const MaxHedgesCap = 10

// Config configures a [Policy]. The zero value of every field means the
// documented default: Config{} hedges once, at once (a delay of zero).
type Config struct {
	// Name is copied into every event's Name.
	Name string

	// Delay is how long an attempt runs before the next one starts, when
	// no attempt has finished. Zero means no wait: every attempt starts at
	// once, as gRFC A6's hedging delay of 0. With Quantile set, Delay is
	// the wait until enough latencies have been seen. Negative panics.
	Delay time.Duration

	// Quantile, in (0, 1), makes the delay that quantile of the latencies
	// of the last 1000 successful calls (0.95: hedge the slowest 5%),
	// never below MinDelay. Until enough calls have succeeded
	// (max(10, ⌈1/(1−Quantile)⌉): 20 for 0.95, 100 for 0.99) the delay is
	// Delay, or MinDelay when Delay is zero. A call's latency is the time
	// from Do to its winner's success, so a hedged call counts as slower
	// than the delay and the share of calls hedged stays near
	// 1 − Quantile. Choose it below 1 minus the share of calls that are
	// slow: if more of them than 1 − Quantile are slow, the delay climbs
	// into the slow mode and hedging stops helping. Zero means a fixed
	// Delay; 1 or more, a negative value or NaN panics.
	Quantile float64

	// MinDelay is the least delay Quantile may give. Zero means none;
	// negative panics.
	MinDelay time.Duration

	// MaxHedges is how many attempts may start after the first. Zero
	// means 1; a value above [MaxHedgesCap] (10) is cut to it; negative
	// panics.
	MaxHedges int

	// Budget, when set, must cover every hedge (never the first attempt):
	// each Do counts one request ([retry.Budget.Request]) and each hedge
	// spends one retry ([retry.Budget.AllowRetry]), from the same budget a
	// retry policy may share, so a dependency slow for every caller does
	// not get its load multiplied. A hedge the budget refuses is not sent,
	// and no later one is: the attempts already running go on. Nil means
	// no budget.
	Budget *retry.Budget

	// RetryIf reports whether a failed attempt's error leaves the call
	// open: the next hedge then starts at once, without waiting for the
	// delay (gRFC A6), and the call fails only when every attempt it may
	// make has failed. An error it rejects ends the call with that error
	// and cancels the other attempts: the dependency gave an answer. It is
	// consulted only for errors that are not permanent
	// ([resilience.IsPermanent], which always end the call) and not the
	// end of the caller's own context. Nil means every such error leaves
	// the call open, as retry's RetryIf.
	RetryIf func(error) bool

	// Observer receives the policy's events; see the package
	// documentation. Nil means none.
	Observer resilience.Observer
}

// Validate reports what [New] would panic on: a negative Delay, MinDelay
// or MaxHedges, or a Quantile that is NaN or outside [0, 1). It returns
// nil for a configuration New accepts.
func (c Config) Validate() error {
	var errs []error
	if c.Delay < 0 {
		errs = append(errs, fmt.Errorf("hedge: negative Delay %v", c.Delay))
	}
	if c.MinDelay < 0 {
		errs = append(errs, fmt.Errorf("hedge: negative MinDelay %v", c.MinDelay))
	}
	if math.IsNaN(c.Quantile) || c.Quantile < 0 || c.Quantile >= 1 {
		errs = append(errs, fmt.Errorf("hedge: Quantile %v outside (0, 1)", c.Quantile))
	}
	if c.MaxHedges < 0 {
		errs = append(errs, fmt.Errorf("hedge: negative MaxHedges %d", c.MaxHedges))
	}
	return errors.Join(errs...)
}
