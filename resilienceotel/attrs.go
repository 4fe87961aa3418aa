package resilienceotel

import (
	"maps"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/magicmagnets/resilience"
)

// The attribute keys of every data point.
const (
	keyPolicy  = attribute.Key("policy")
	keyName    = attribute.Key("name")
	keyKind    = attribute.Key("kind")
	keyFrom    = attribute.Key("from")
	keyTo      = attribute.Key("to")
	keyOutcome = attribute.Key("outcome")
	keyState   = attribute.Key("state")
)

// maxCached bounds how many combinations the Observer keeps attributes for.
// Past it, the attributes of a new combination are built on every event,
// which costs allocations but records the same data points.
const maxCached = 1024

// key is what an event's attributes depend on. From and To are kept only
// for state changes, and the outcome only for calls, so that other kinds
// never multiply the combinations.
type key struct {
	policy, name string
	kind         resilience.Kind
	from, to     string
	outcome      outcome
}

// attrs holds the ready-made options, each wrapping one attribute set, that
// record the events of one key.
type attrs struct {
	event      []metric.AddOption    // policy, name, kind: resilience.events
	record     []metric.RecordOption // policy, name (and outcome, for a call): the duration histograms
	transition []metric.AddOption    // policy, name, from, to: resilience.breaker.transitions
}

func keyOf(e resilience.Event) key {
	k := key{policy: e.Policy, name: e.Name, kind: e.Kind}
	switch e.Kind {
	case resilience.KindStateChange:
		k.from, k.to = e.From, e.To
	case resilience.KindCall:
		k.outcome = outcomeOf(e.Err)
	}
	return k
}

func newAttrs(k key) *attrs {
	base := make([]attribute.KeyValue, 0, 4)
	base = append(base, keyPolicy.String(k.policy))
	if k.name != "" {
		base = append(base, keyName.String(k.name))
	}
	if k.kind == resilience.KindCall {
		// A call is recorded on its histogram alone.
		return &attrs{record: []metric.RecordOption{metric.WithAttributes(append(base, keyOutcome.String(k.outcome.String()))...)}}
	}
	a := &attrs{
		event:  []metric.AddOption{metric.WithAttributes(append(base[:len(base):len(base)], keyKind.String(string(k.kind)))...)},
		record: []metric.RecordOption{metric.WithAttributes(base...)},
	}
	if k.kind == resilience.KindStateChange {
		a.transition = []metric.AddOption{metric.WithAttributes(append(base[:len(base):len(base)], keyFrom.String(k.from), keyTo.String(k.to))...)}
	}
	return a
}

// attrs returns the options for e's key, building and caching them the
// first time the key is seen.
func (o *Observer) attrs(e resilience.Event) *attrs {
	k := keyOf(e)
	if a, ok := (*o.cached.Load())[k]; ok {
		return a
	}
	a := newAttrs(k)
	o.mu.Lock()
	defer o.mu.Unlock()
	old := *o.cached.Load()
	if cur, ok := old[k]; ok {
		return cur // another goroutine added it meanwhile
	}
	if len(old) >= maxCached {
		return a
	}
	m := make(map[key]*attrs, len(old)+1)
	maps.Copy(m, old)
	m[k] = a
	o.cached.Store(&m)
	return a
}
