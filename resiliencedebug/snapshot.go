package resiliencedebug

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"time"
)

// Snapshot is the state of every policy a [Dashboard] knows, as its
// snapshot.json and every message of its event stream carry it.
type Snapshot struct {
	// WindowSeconds is the span of the rolling window the counts, rates
	// and percentiles cover: 10.
	WindowSeconds int `json:"window_seconds"`
	// Actions reports whether operator actions are enabled.
	Actions bool `json:"actions"`
	// Policies has one tile per (policy, name) pair, sorted by name and
	// then policy, with the "other" entry last.
	Policies []Tile `json:"policies"`
}

// Tile is the state of one (policy, name) pair: what its events counted
// over the last WindowSeconds, and the live state of a registered policy.
type Tile struct {
	Policy string `json:"policy"` // the emitting package: "breaker", "retry", ...; empty for "other"
	Name   string `json:"name"`   // the policy's configured name
	// Other marks the entry counting the events of the pairs past
	// Config.MaxNames.
	Other bool `json:"other,omitempty"`

	// State is a breaker's state in words: "closed", "open" or
	// "half-open"; read from a registered breaker, else the To of the last
	// state change seen; empty when unknown.
	State string `json:"state,omitempty"`

	// The counts of the window's events.
	Calls      uint64 `json:"calls"`      // finished calls (KindCall), rejected ones included
	Successes  uint64 `json:"successes"`  // calls that returned nil
	Failures   uint64 `json:"failures"`   // calls that failed, rejections excepted
	Timeouts   uint64 `json:"timeouts"`   // KindTimeout
	Rejections uint64 `json:"rejections"` // KindRejected
	Retries    uint64 `json:"retries"`    // KindRetry
	Hedges     uint64 `json:"hedges"`     // KindHedge
	Replays    uint64 `json:"replays"`    // KindReplay
	Fallbacks  uint64 `json:"fallbacks"`  // KindFallback

	RequestRate   float64 `json:"request_rate"`   // calls per second over the window
	ErrorRate     float64 `json:"error_rate"`     // Failures / Calls; 0 without calls
	RejectionRate float64 `json:"rejection_rate"` // Rejections / Calls, at most 1; 0 without calls

	// P50 and P99 estimate the median and 99th percentile of the durations
	// of the calls that ran (successes and failures) from a histogram with
	// bins in steps of 1, 2, 5 from 50µs to 50s, interpolating inside a bin;
	// 0 without such calls.
	P50 time.Duration `json:"p50_ns"`
	P99 time.Duration `json:"p99_ns"`

	// History is the number of calls in each of the last 120 seconds, the
	// oldest first, the current second last.
	History []uint32 `json:"history"`

	// InFlight and Limit are read from a registered Limiter; Limit is also
	// the last limit change seen (KindLimitChange). Nil when unknown.
	InFlight *int `json:"in_flight,omitempty"`
	Limit    *int `json:"limit,omitempty"`

	// Breaker is set for a registered breaker.
	Breaker *BreakerTile `json:"breaker,omitempty"`
}

// BreakerTile is what a registered breaker's Metrics add to its [Tile].
type BreakerTile struct {
	ForcedOpen  bool          `json:"forced_open"`    // ForceOpen is in effect
	Disabled    bool          `json:"disabled"`       // Disable is in effect
	FailureRate float64       `json:"failure_rate"`   // of the breaker's window (the one that tripped it, while open)
	Calls       int           `json:"calls"`          // calls the breaker's window holds
	Trips       int           `json:"trips"`          // times it tripped since it was made
	Rejected    int           `json:"rejected"`       // calls it rejected since it was made
	RetryAfter  time.Duration `json:"retry_after_ns"` // the hint a call rejected now would carry
}

// Snapshot returns the state of every policy the dashboard knows. It also
// drops the pairs idle for two minutes (see Config.MaxNames).
func (d *Dashboard) Snapshot() Snapshot {
	now := d.second()
	d.mu.Lock()
	d.prune(now)
	reg := maps.Clone(d.registered)
	d.mu.Unlock()

	m := *d.series.Load()
	tiles := make([]Tile, 0, len(m)+1)
	for k, s := range m {
		t := tileOf(s.read(now))
		t.Policy, t.Name = k.policy, k.name
		if l, ok := reg[k]; ok {
			l.fill(&t)
		}
		tiles = append(tiles, t)
	}
	slices.SortFunc(tiles, func(a, b Tile) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Policy, b.Policy))
	})
	if o := d.other.read(now); o.any() {
		t := tileOf(o)
		// A state or limit would be that of whichever folded pair
		// reported last: say none.
		t.State, t.Limit = "", nil
		t.Name, t.Other = "other", true
		tiles = append(tiles, t)
	}
	return Snapshot{WindowSeconds: windowSeconds, Actions: d.cfg.Actions, Policies: tiles}
}

// any reports whether the totals hold any event of the last two minutes.
func (t *totals) any() bool {
	for _, c := range t.history {
		if c != 0 {
			return true
		}
	}
	for _, c := range t.n {
		if c != 0 {
			return true
		}
	}
	return false
}

// tileOf builds the counted part of a tile.
func tileOf(t totals) Tile {
	tile := Tile{
		State:      t.state,
		Calls:      t.n[cCalls],
		Successes:  t.n[cSuccesses],
		Failures:   t.n[cFailures],
		Timeouts:   t.n[cTimeouts],
		Rejections: t.n[cRejections],
		Retries:    t.n[cRetries],
		Hedges:     t.n[cHedges],
		Replays:    t.n[cReplays],
		Fallbacks:  t.n[cFallbacks],
		P50:        percentile(&t.lat, 0.5),
		P99:        percentile(&t.lat, 0.99),
		History:    t.history[:],
	}
	tile.RequestRate = float64(tile.Calls) / windowSeconds
	if tile.Calls > 0 {
		tile.ErrorRate = float64(tile.Failures) / float64(tile.Calls)
		tile.RejectionRate = min(1, float64(tile.Rejections)/float64(tile.Calls))
	}
	if n, err := strconv.Atoi(t.limit); err == nil {
		tile.Limit = &n
	}
	return tile
}

// fill adds the live state of a registered policy to its tile.
func (l live) fill(t *Tile) {
	if l.limiter != nil {
		inFlight, limit := l.limiter.InFlight(), l.limiter.Limit()
		t.InFlight, t.Limit = &inFlight, &limit
		return
	}
	m := l.breaker.Metrics()
	t.State = m.State.String()
	t.Breaker = &BreakerTile{
		ForcedOpen:  m.ForcedOpen,
		Disabled:    m.Disabled,
		FailureRate: m.FailureRate,
		Calls:       m.Calls,
		Trips:       m.Trips,
		Rejected:    m.Rejected,
		RetryAfter:  m.RetryAfter,
	}
}
