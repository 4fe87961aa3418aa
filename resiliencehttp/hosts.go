package resiliencehttp

import (
	"container/list"
	"sync"

	"github.com/magicmagnets/resilience"
)

// hosts keeps one policy per host, at most max of them, dropping the least
// recently used. It is safe for concurrent use.
type hosts struct {
	factory func(host string) resilience.Policy
	max     int

	mu     sync.Mutex
	byHost map[string]*list.Element // of *hostEntry, guarded by mu
	order  list.List                // most recently used first, guarded by mu
}

type hostEntry struct {
	host   string
	once   sync.Once
	policy resilience.Policy // set once, by once
}

func newHosts(factory func(string) resilience.Policy, max int) *hosts {
	return &hosts{factory: factory, max: max, byHost: make(map[string]*list.Element)}
}

// policy returns host's policy, creating it on first use. The factory runs
// outside the lock, once per entry: requests that race on a new host wait
// for the first one's call instead of creating a second breaker. It returns
// nil if the factory did (or panicked).
func (h *hosts) policy(host string) resilience.Policy {
	h.mu.Lock()
	el, ok := h.byHost[host]
	if ok {
		h.order.MoveToFront(el)
	} else {
		el = h.order.PushFront(&hostEntry{host: host})
		h.byHost[host] = el
		if h.order.Len() > h.max {
			last := h.order.Back()
			h.order.Remove(last)
			delete(h.byHost, last.Value.(*hostEntry).host)
		}
	}
	e := el.Value.(*hostEntry)
	h.mu.Unlock()

	// An entry evicted meanwhile still serves the requests holding it.
	e.once.Do(func() { e.policy = h.factory(host) })
	return e.policy
}
