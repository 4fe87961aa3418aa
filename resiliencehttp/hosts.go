package resiliencehttp

import (
	"container/list"
	"sync"
	"sync/atomic"

	"github.com/magicmagnets/resilience"
)

// hosts keeps one policy per host, at most max of them, dropping the least
// recently used. It is safe for concurrent use.
type hosts struct {
	factory func(host string) resilience.Policy
	max     int

	// front is the entry at the front of order: the host used last, whose
	// requests find it without the lock. It is set, with order, under mu,
	// and any other host's request moves that host to the front and
	// replaces it, so a request served from it leaves the order exact.
	front atomic.Pointer[hostEntry]

	mu     sync.Mutex
	byHost map[string]*list.Element // of *hostEntry, guarded by mu
	order  list.List                // most recently used first, guarded by mu
}

type hostEntry struct {
	host   string
	once   sync.Once
	policy resilience.Policy // set once, by once
	ready  atomic.Bool       // policy is set and not nil
}

func newHosts(factory func(string) resilience.Policy, max int) *hosts {
	return &hosts{factory: factory, max: max, byHost: make(map[string]*list.Element)}
}

// policy returns host's policy, creating it on first use. The factory runs
// outside the lock, once per entry: requests that race on a new host wait
// for the first one's call instead of creating a second breaker. It returns
// nil if the factory did (or panicked).
func (h *hosts) policy(host string) resilience.Policy {
	if e := h.front.Load(); e != nil && e.host == host && e.ready.Load() {
		return e.policy
	}
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
	h.front.Store(e)
	h.mu.Unlock()

	// An entry evicted meanwhile still serves the requests holding it.
	e.once.Do(func() {
		e.policy = h.factory(host)
		e.ready.Store(e.policy != nil)
	})
	return e.policy
}
