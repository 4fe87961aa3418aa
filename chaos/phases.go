package main

import (
	"time"

	toxiproxy "github.com/Shopify/toxiproxy/v2/client"
)

// redrawEvery is how often a toxic with a toxicity below 1 is drawn again.
const redrawEvery = 750 * time.Millisecond

// phase is one kind of fault, applied for the phase's duration (shorter
// than the lease) and then removed.
type phase struct {
	name  string
	apply func(t *trial) error
	// midCharge applies the fault only once the phase's first keyed
	// charges have gone through, so that it falls on the requests then
	// between their claim and their record.
	midCharge bool
}

// toxic is one Toxiproxy toxic: a type, a direction, how many connections
// it affects (drawn once per connection) and its attributes.
type toxic struct {
	typ      string
	stream   string
	toxicity float32
	attrs    toxiproxy.Attributes
}

// added is a toxic on a proxy, kept to draw it again.
type added struct {
	proxy *toxiproxy.Proxy
	toxic toxic
}

func (a added) name() string { return a.toxic.typ + "_" + a.toxic.stream }

func (a added) add() error {
	_, err := a.proxy.AddToxic(a.name(), a.toxic.typ, a.toxic.stream, a.toxic.toxicity, a.toxic.attrs)
	return err
}

// redraw removes the toxic and adds it again, so that every connection
// draws its toxicity anew.
func (a added) redraw() error {
	if err := a.proxy.RemoveToxic(a.name()); err != nil {
		return err
	}
	return a.add()
}

// on adds tx to every proxy in ps.
func (t *trial) on(ps []*toxiproxy.Proxy, tx toxic) error {
	for _, p := range ps {
		a := added{proxy: p, toxic: tx}
		if err := a.add(); err != nil {
			return err
		}
		if tx.toxicity < 1 {
			t.partial = append(t.partial, a)
		}
	}
	return nil
}

func disable(ps ...*toxiproxy.Proxy) error {
	for _, p := range ps {
		if err := p.Disable(); err != nil {
			return err
		}
	}
	return nil
}

// phases are the faults the orders go through, in order. Faults between
// the clients and the replicas hit both replicas' proxies; faults of the
// store hit both replicas' store proxies. Toxiproxy draws a toxic's
// toxicity once per connection, and the clients keep their connections:
// a toxic with a toxicity below 1 is drawn again every redrawEvery while
// its phase lasts.
var phases = []phase{
	{"latency", func(t *trial) error {
		return t.on(t.httpProxies(), toxic{"latency", "downstream", 1, toxiproxy.Attributes{"latency": 300, "jitter": 250}})
	}, false},
	{"hangs", func(t *trial) error {
		return t.on(t.httpProxies(), toxic{"timeout", "downstream", 0.4, toxiproxy.Attributes{"timeout": 0}})
	}, false},
	{"resets", func(t *trial) error {
		return t.on(t.httpProxies(), toxic{"reset_peer", "downstream", 0.5, toxiproxy.Attributes{"timeout": 0}})
	}, false},
	{"slicing", func(t *trial) error {
		slicer := toxiproxy.Attributes{"average_size": 24, "size_variation": 16, "delay": 2000}
		if err := t.on(t.httpProxies(), toxic{"slicer", "downstream", 1, slicer}); err != nil {
			return err
		}
		return t.on(t.httpProxies(), toxic{"slicer", "upstream", 1, slicer})
	}, false},
	{"cut-off bodies", func(t *trial) error {
		return t.on(t.httpProxies(), toxic{"limit_data", "downstream", 0.5, toxiproxy.Attributes{"bytes": 700}})
	}, false},
	{"replica down", func(t *trial) error {
		return disable(t.httpProxy[0])
	}, false},
	{"store slow", func(t *trial) error {
		return t.on(t.storeProxies(), toxic{"latency", "downstream", 1, toxiproxy.Attributes{"latency": 250, "jitter": 100}})
	}, false},
	{"slow store link (a)", func(t *trial) error {
		// Replica a's store answers after the client's 2s per-attempt
		// timeout: the retry reaches replica b while a still owns the key.
		return t.on(t.storeProxy[:1], toxic{"latency", "downstream", 1, toxiproxy.Attributes{"latency": 2500, "jitter": 200}})
	}, false},
	{"store resets", func(t *trial) error {
		// Replies lost after the command ran: go-redis and pgx see a
		// dropped connection, and go-redis sends the command again.
		return t.on(t.storeProxies(), toxic{"reset_peer", "downstream", 0.3, toxiproxy.Attributes{"timeout": 0}})
	}, false},
	{"store hung", func(t *trial) error {
		return t.on(t.storeProxies(), toxic{"timeout", "upstream", 1, toxiproxy.Attributes{"timeout": 0}})
	}, false},
	{"store unreachable", func(t *trial) error {
		return disable(t.storeProxies()...)
	}, false},
	{"store lost mid-charge", func(t *trial) error {
		// The requests in flight have claimed their keys and are charging:
		// each one's record meets a store that is gone, for the fault's
		// duration, and must be retried until it is taken.
		return disable(t.storeProxies()...)
	}, true},
}
