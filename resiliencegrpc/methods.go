package resiliencegrpc

import (
	"container/list"
	"sync"

	"github.com/magicmagnets/resilience"
)

// methods keeps one policy per method, at most max of them, dropping the
// least recently used. It is safe for concurrent use.
type methods struct {
	factory func(fullMethod string) resilience.Policy
	max     int

	mu       sync.Mutex
	byMethod map[string]*list.Element // of *methodEntry, guarded by mu
	order    list.List                // most recently used first, guarded by mu
}

type methodEntry struct {
	method string
	once   sync.Once
	policy resilience.Policy // set once, by once
}

func newMethods(factory func(string) resilience.Policy, max int) *methods {
	return &methods{factory: factory, max: max, byMethod: make(map[string]*list.Element)}
}

// policy returns method's policy, creating it on first use. The factory
// runs outside the lock, once per entry: calls that race on a new method
// wait for the first one's factory call rather than building a second
// breaker. It returns nil if the factory did (or panicked).
func (m *methods) policy(method string) resilience.Policy {
	m.mu.Lock()
	el, ok := m.byMethod[method]
	if ok {
		m.order.MoveToFront(el)
	} else {
		el = m.order.PushFront(&methodEntry{method: method})
		m.byMethod[method] = el
		if m.order.Len() > m.max {
			last := m.order.Back()
			m.order.Remove(last)
			delete(m.byMethod, last.Value.(*methodEntry).method)
		}
	}
	e := el.Value.(*methodEntry)
	m.mu.Unlock()

	// An entry evicted meanwhile still serves the calls holding it.
	e.once.Do(func() { e.policy = m.factory(method) })
	return e.policy
}
