package resilienceotel

import (
	"context"
	"errors"
	"fmt"
	"path"
	"reflect"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/magicmagnets/resilience/breaker"
)

// Limiter is what [Observer.Register] reads from a concurrency limit, such
// as a bulkhead or an adaptive limiter: how many calls it admits at once and
// how many it holds now.
type Limiter interface {
	InFlight() int
	Limit() int
}

// breakerStates are the states resilience.breaker.state reports, each as
// its own data point.
var breakerStates = [...]breaker.State{breaker.Closed, breaker.Open, breaker.HalfOpen}

// live is a registered policy and the attributes of its data points.
type live struct {
	breaker *breaker.Breaker
	limiter Limiter
	// for a breaker, one option per state (in the order of breakerStates);
	// for a limiter, one option.
	opts []metric.ObserveOption
}

// gauges are the observable instruments of the registered policies.
type gauges struct {
	state    metric.Int64ObservableGauge
	inFlight metric.Int64ObservableUpDownCounter
	limit    metric.Int64ObservableGauge

	mu   sync.Mutex
	live map[key]live // keyed by policy and name
}

func newGauges(meter metric.Meter) (*gauges, error) {
	state, err0 := meter.Int64ObservableGauge("resilience.breaker.state",
		metric.WithUnit("1"),
		metric.WithDescription("1 for the state a registered circuit breaker is in, 0 for the others."))
	inFlight, err1 := meter.Int64ObservableUpDownCounter("resilience.limit.in_flight",
		metric.WithUnit("{call}"),
		metric.WithDescription("Calls a registered concurrency limit (bulkhead, adaptive limiter) holds now."))
	limit, err2 := meter.Int64ObservableGauge("resilience.limit.limit",
		metric.WithUnit("{call}"),
		metric.WithDescription("Calls a registered concurrency limit admits at once."))
	if err := errors.Join(err0, err1, err2); err != nil {
		return nil, err
	}
	g := &gauges{state: state, inFlight: inFlight, limit: limit, live: map[key]live{}}
	if _, err := meter.RegisterCallback(g.observe, state, inFlight, limit); err != nil {
		return nil, err
	}
	return g, nil
}

// Register adds a live policy under name, whose state every collection
// reports from now on, before any event: for a *breaker.Breaker,
// resilience.breaker.state (1 for its state, 0 for the other two, so a
// closed breaker is reported as such from the start); for a [Limiter], such
// as a *bulkhead.Bulkhead or an *adaptive.Limiter, resilience.limit.in_flight
// and resilience.limit.limit. Their data points carry policy (the package of
// p's type: "breaker", "bulkhead", "adaptive", ...) and name (left out when
// empty), as the policy's events do when name is its configured Name; a
// breaker's add state ("closed", "open", "half-open"). Registering the same
// package and name again replaces the earlier policy.
//
// Register panics if p is nil or neither a breaker nor a Limiter: that is a
// programming error.
func (o *Observer) Register(name string, p any) {
	var l live
	switch v := p.(type) {
	case *breaker.Breaker:
		if v == nil {
			panic("resilienceotel: Register of a nil *breaker.Breaker")
		}
		l.breaker = v
	case Limiter:
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
			panic(fmt.Sprintf("resilienceotel: Register of a nil %T", p))
		}
		l.limiter = v
	case nil:
		panic("resilienceotel: Register of nil")
	default:
		panic(fmt.Sprintf("resilienceotel: Register of a %T, which is neither a *breaker.Breaker nor has InFlight() int and Limit() int", p))
	}
	k := key{policy: packageOf(p), name: name}
	base := []attribute.KeyValue{keyPolicy.String(k.policy)}
	if name != "" {
		base = append(base, keyName.String(name))
	}
	if l.breaker != nil {
		for _, st := range breakerStates {
			l.opts = append(l.opts, metric.WithAttributes(append(base[:len(base):len(base)], keyState.String(st.String()))...))
		}
	} else {
		l.opts = []metric.ObserveOption{metric.WithAttributes(base...)}
	}
	o.gauges.mu.Lock()
	o.gauges.live[k] = l
	o.gauges.mu.Unlock()
}

// observe is the callback of the gauges: it reads every registered policy.
func (g *gauges) observe(_ context.Context, obs metric.Observer) error {
	g.mu.Lock()
	all := make([]live, 0, len(g.live))
	for _, l := range g.live {
		all = append(all, l)
	}
	g.mu.Unlock()
	// The policies are read without the lock: a breaker's State may emit
	// a state change to an observer, this one included.
	for _, l := range all {
		if l.limiter != nil {
			obs.ObserveInt64(g.inFlight, int64(l.limiter.InFlight()), l.opts[0])
			obs.ObserveInt64(g.limit, int64(l.limiter.Limit()), l.opts[0])
			continue
		}
		st := l.breaker.State()
		for i, s := range breakerStates {
			v := int64(0)
			if s == st {
				v = 1
			}
			obs.ObserveInt64(g.state, v, l.opts[i])
		}
	}
	return nil
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
