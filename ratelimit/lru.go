package ratelimit

// lru is a map bounded to max entries that evicts the least recently used
// one. It is not safe for concurrent use: its owner holds a lock.
type lru[V any] struct {
	max   int
	items map[string]*lruEntry[V]
	// root is the sentinel of a circular list, most recently used first.
	root lruEntry[V]
}

type lruEntry[V any] struct {
	key        string
	val        V
	prev, next *lruEntry[V]
}

func newLRU[V any](max int) *lru[V] {
	c := &lru[V]{max: max, items: make(map[string]*lruEntry[V])}
	c.root.prev, c.root.next = &c.root, &c.root
	return c
}

// get returns the value kept for key and marks it most recently used.
func (c *lru[V]) get(key string) (V, bool) {
	e, ok := c.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	c.moveToFront(e)
	return e.val, true
}

// add keeps v for key, which must not be kept yet, evicting the least
// recently used entry when the map is full.
func (c *lru[V]) add(key string, v V) {
	if len(c.items) >= c.max {
		old := c.root.prev
		c.unlink(old)
		delete(c.items, old.key)
	}
	e := &lruEntry[V]{key: key, val: v}
	c.items[key] = e
	c.pushFront(e)
}

// set keeps v for key, as the most recently used entry.
func (c *lru[V]) set(key string, v V) {
	if e, ok := c.items[key]; ok {
		e.val = v
		c.moveToFront(e)
		return
	}
	c.add(key, v)
}

// len is how many entries are kept.
func (c *lru[V]) len() int { return len(c.items) }

func (c *lru[V]) moveToFront(e *lruEntry[V]) {
	if c.root.next == e {
		return
	}
	c.unlink(e)
	c.pushFront(e)
}

func (c *lru[V]) unlink(e *lruEntry[V]) {
	e.prev.next, e.next.prev = e.next, e.prev
}

func (c *lru[V]) pushFront(e *lruEntry[V]) {
	e.prev, e.next = &c.root, c.root.next
	c.root.next.prev = e
	c.root.next = e
}
