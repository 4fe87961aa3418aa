package resiliencedebug

import (
	"errors"
	"sync"
	"time"

	"github.com/magicmagnets/resilience"
)

// The rolling window and the history, in one-second buckets.
const (
	windowSeconds  = 10  // the rates, counts and percentiles cover the last 10 s
	historySeconds = 120 // the sparkline covers the last two minutes
)

// counter names one of the counts a series keeps per second.
type counter uint8

const (
	cCalls counter = iota
	cSuccesses
	cFailures
	cTimeouts
	cRejections
	cRetries
	cHedges
	cReplays
	cFallbacks
	nCounters
)

// latencyBounds are the upper bounds of the latency histogram's bins, in
// steps of 1, 2, 5 from 50µs to 50s; a last bin holds everything slower.
var latencyBounds = [...]time.Duration{
	50 * time.Microsecond, 100 * time.Microsecond, 200 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond,
	10 * time.Millisecond, 20 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2 * time.Second, 5 * time.Second,
	10 * time.Second, 20 * time.Second, 50 * time.Second,
}

const nBins = len(latencyBounds) + 1

// bucket is one second of a series.
type bucket struct {
	n   [nCounters]uint32
	lat [nBins]uint32
}

// series aggregates the events of one (policy, name) pair. Its mutex is
// held only to add an event or to read the series, never while calling out.
type series struct {
	policy, name string

	mu      sync.Mutex
	now     int64 // the second (since the dashboard's epoch) of the newest bucket
	last    int64 // the second of the latest event, or of the series' creation
	win     [windowSeconds]bucket
	history [historySeconds]uint32 // calls per second
	state   string                 // the last state a KindStateChange reported
	limit   string                 // the last limit a KindLimitChange reported
}

func newSeries(policy, name string, now int64) *series {
	return &series{policy: policy, name: name, now: now, last: now}
}

// roll moves the series forward to second now, clearing the buckets of the
// seconds it skips. The caller holds s.mu.
func (s *series) roll(now int64) {
	if now <= s.now {
		return
	}
	gap := now - s.now
	if gap > historySeconds {
		gap = historySeconds
	}
	for sec := now - gap + 1; sec <= now; sec++ {
		s.history[sec%historySeconds] = 0
		if now-sec < windowSeconds {
			s.win[sec%windowSeconds] = bucket{}
		}
	}
	s.now = now
}

// add counts e, which happened in second now. The caller holds s.mu.
func (s *series) add(e *resilience.Event, now int64) {
	s.roll(now)
	s.last = now
	b := &s.win[now%windowSeconds]
	switch e.Kind {
	case resilience.KindCall:
		b.n[cCalls]++
		s.history[now%historySeconds]++
		switch {
		case e.Err == nil:
			b.n[cSuccesses]++
		case errors.Is(e.Err, resilience.ErrRejected):
			// Counted by its KindRejected event; it did not run, so its
			// duration says nothing about latency.
			return
		default:
			b.n[cFailures]++
		}
		b.lat[bin(e.Duration)]++
	case resilience.KindTimeout:
		b.n[cTimeouts]++
	case resilience.KindRejected:
		b.n[cRejections]++
	case resilience.KindRetry:
		b.n[cRetries]++
	case resilience.KindHedge:
		b.n[cHedges]++
	case resilience.KindReplay:
		b.n[cReplays]++
	case resilience.KindFallback:
		b.n[cFallbacks]++
	case resilience.KindStateChange:
		s.state = e.To
	case resilience.KindLimitChange:
		s.limit = e.To
	}
}

// bin returns the latency bin of d.
func bin(d time.Duration) int {
	for i, ub := range latencyBounds {
		if d <= ub {
			return i
		}
	}
	return nBins - 1
}

// totals is what a series held over the window at one moment.
type totals struct {
	n       [nCounters]uint64
	lat     [nBins]uint64
	history [historySeconds]uint32 // oldest first
	state   string
	limit   string
	last    int64
}

// read returns the series' totals at second now.
func (s *series) read(now int64) totals {
	var t totals
	s.mu.Lock()
	s.roll(now)
	for i := range s.win {
		for c := range s.win[i].n {
			t.n[c] += uint64(s.win[i].n[c])
		}
		for j := range s.win[i].lat {
			t.lat[j] += uint64(s.win[i].lat[j])
		}
	}
	for i := range historySeconds {
		// Oldest first: the second after now, modulo the history, is the
		// oldest one kept.
		t.history[i] = s.history[(now+1+int64(i))%historySeconds]
	}
	t.state, t.limit, t.last = s.state, s.limit, s.last
	s.mu.Unlock()
	return t
}

// percentile estimates the q-quantile of the latencies in lat: the bin
// holding it is found by rank, and the value interpolated linearly inside
// it. It returns 0 when lat is empty; a rank in the last, unbounded bin
// gives its lower bound.
func percentile(lat *[nBins]uint64, q float64) time.Duration {
	var n uint64
	for _, c := range lat {
		n += c
	}
	if n == 0 {
		return 0
	}
	rank := q * float64(n)
	var below uint64
	for i, c := range lat {
		if c == 0 || float64(below+c) < rank {
			below += c
			continue
		}
		var lo time.Duration
		if i > 0 {
			lo = latencyBounds[i-1]
		}
		if i == nBins-1 {
			return lo
		}
		hi := latencyBounds[i]
		frac := (rank - float64(below)) / float64(c)
		return lo + time.Duration(frac*float64(hi-lo))
	}
	return latencyBounds[len(latencyBounds)-1]
}
