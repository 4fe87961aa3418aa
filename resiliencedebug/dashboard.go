package resiliencedebug

import (
	"fmt"
	"maps"
	"net/http"
	"path"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/breaker"
)

// Dashboard aggregates the events of the policies it observes and serves
// them as a page, a JSON snapshot and an event stream (see [Dashboard.ServeHTTP]).
// It is a [resilience.Observer]: put it in the Observer field of every
// policy's Config (or in a fan-out observer beside others). Live state —
// a breaker's state, a limit and what is in flight — comes from the
// policies given to [Dashboard.Register].
//
// Observe is safe for concurrent use, never blocks on a reader of the
// dashboard, and allocates nothing for a (policy, name) pair it already
// keeps. Make one with [New]; the zero value is not usable.
type Dashboard struct {
	cfg   Config
	epoch time.Time
	cop   *http.CrossOriginProtection

	// series maps each (policy, name) pair to its aggregate. Readers load
	// the map without a lock; it is replaced by a copy, under mu, to add or
	// drop a pair.
	series atomic.Pointer[map[key]*series]
	other  *series // the events of the pairs past MaxNames

	mu         sync.Mutex
	registered map[key]live
	nreg       atomic.Int64 // len(registered), read without the lock
}

// key identifies a series: the emitting package and the instance's name.
type key struct{ policy, name string }

// Limiter is what [Dashboard.Register] reads from a concurrency limit, such
// as a bulkhead or an adaptive limiter: how many calls it admits at once and
// how many it holds now.
type Limiter interface {
	InFlight() int
	Limit() int
}

// live is a registered policy: exactly one of its fields is set.
type live struct {
	breaker *breaker.Breaker
	limiter Limiter
}

// New returns a dashboard configured by cfg. It panics, with a message
// starting "resiliencedebug: ", on what [Config.Validate] reports.
func New(cfg Config) *Dashboard {
	if err := cfg.Validate(); err != nil {
		panic(err.Error())
	}
	if cfg.MaxNames == 0 {
		cfg.MaxNames = defaultMaxNames
	}
	d := &Dashboard{
		cfg:        cfg,
		epoch:      time.Now(),
		cop:        http.NewCrossOriginProtection(),
		other:      newSeries("", "other", 0),
		registered: map[key]live{},
	}
	d.series.Store(&map[key]*series{})
	return d
}

// second returns the current second since the dashboard's epoch.
func (d *Dashboard) second() int64 {
	return int64(time.Since(d.epoch) / time.Second)
}

// Observe counts e in the rolling window of its (Policy, Name) pair: calls
// (KindCall, by outcome: nil a success, an error matching
// resilience.ErrRejected left to its KindRejected event, any other error a
// failure) with their Duration in the latency histogram, timeouts,
// rejections, retries, hedges, replays and fallbacks; a KindStateChange sets
// the pair's last known state and a KindLimitChange its last known limit.
func (d *Dashboard) Observe(e resilience.Event) {
	s := d.seriesOf(e.Policy, e.Name)
	now := d.second()
	s.mu.Lock()
	s.add(&e, now)
	s.mu.Unlock()
}

// seriesOf returns the series of (policy, name), adding it if there is
// room, and the "other" series otherwise.
func (d *Dashboard) seriesOf(policy, name string) *series {
	m := *d.series.Load()
	if s, ok := m[key{policy, name}]; ok {
		return s
	}
	if len(m) >= d.cfg.MaxNames+int(d.nreg.Load()) {
		return d.other
	}
	return d.add(key{policy, name}, false)
}

// add returns the series of k, adding it unless the map is full and force
// is false. It takes d.mu.
func (d *Dashboard) add(k key, force bool) *series {
	d.mu.Lock()
	defer d.mu.Unlock()
	old := *d.series.Load()
	if s, ok := old[k]; ok {
		return s // another goroutine added it meanwhile
	}
	if !force && len(old) >= d.cfg.MaxNames+len(d.registered) {
		return d.other
	}
	m := make(map[key]*series, len(old)+1)
	maps.Copy(m, old)
	s := newSeries(k.policy, k.name, d.second())
	m[k] = s
	d.series.Store(&m)
	return s
}

// prune drops the series that are not registered and have had no event for
// the whole history, so that their places go to new names. The caller holds
// d.mu. An event that loaded the old map just before may count in a dropped
// series; it is lost, which only a pair idle for two minutes can suffer.
func (d *Dashboard) prune(now int64) {
	old := *d.series.Load()
	var idle []key
	for k, s := range old {
		if _, ok := d.registered[k]; ok {
			continue
		}
		s.mu.Lock()
		last := s.last
		s.mu.Unlock()
		if now-last >= historySeconds {
			idle = append(idle, k)
		}
	}
	if len(idle) == 0 {
		return
	}
	m := maps.Clone(old)
	for _, k := range idle {
		delete(m, k)
	}
	d.series.Store(&m)
}

// Register adds a live policy under name, so that its tile shows its state
// from the start and, for a breaker with Actions enabled, offers the
// operator actions. p is a *breaker.Breaker (its State and Metrics are read
// at every snapshot) or a [Limiter], such as a *bulkhead.Bulkhead or an
// *adaptive.Limiter (its InFlight and Limit are read). The tile is the one
// of the events whose Policy is the package of p's type ("breaker",
// "bulkhead", "adaptive", ...) and whose Name is name, so name should be
// the policy's configured Name. Registering the same package and name again
// replaces the earlier policy.
//
// Register panics if p is nil or neither a breaker nor a Limiter: that is a
// programming error.
func (d *Dashboard) Register(name string, p any) {
	var l live
	switch v := p.(type) {
	case *breaker.Breaker:
		if v == nil {
			panic("resiliencedebug: Register of a nil *breaker.Breaker")
		}
		l.breaker = v
	case Limiter:
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
			panic(fmt.Sprintf("resiliencedebug: Register of a nil %T", p))
		}
		l.limiter = v
	case nil:
		panic("resiliencedebug: Register of nil")
	default:
		panic(fmt.Sprintf("resiliencedebug: Register of a %T, which is neither a *breaker.Breaker nor has InFlight() int and Limit() int", p))
	}
	k := key{packageOf(p), name}
	d.mu.Lock()
	d.registered[k] = l
	d.nreg.Store(int64(len(d.registered)))
	d.mu.Unlock()
	d.add(k, true)
}

// packageOf returns the last element of the package path of p's type, or
// of the type it points to: "breaker" for a *breaker.Breaker.
func packageOf(p any) string {
	t := reflect.TypeOf(p)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return path.Base(t.PkgPath())
}
