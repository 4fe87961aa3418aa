package ratelimit

import (
	"context"
	"fmt"
	"sync"

	"github.com/magicmagnets/resilience"
)

// Keyed keeps one limit per key (a tenant, a client address), each the
// limit its Config describes. Local buckets are kept for at most maxKeys
// keys: when a new key comes and the set is full, the least recently used
// key's bucket is forgotten, and that key starts again with a full bucket
// if it comes back. So the memory is bounded whatever the keys, at the cost
// that a client cycling through more than maxKeys keys gets more than its
// share; size maxKeys above the number of keys active within Burst·Per/Rate.
// No goroutine is started: eviction happens as keys come.
//
// With a Store, the limit of key is kept under Config.Key + ":" + key and
// Keyed keeps nothing itself.
//
// A Keyed is safe for concurrent use; build it with [NewKeyed].
type Keyed struct {
	core
	prefix string // Config.Key + ":", with a Store

	mu      sync.Mutex
	buckets *lru[*bucket] // nil with a Store
}

// NewKeyed returns a Keyed for c that keeps at most maxKeys local buckets.
// Zero means 10000. It panics on what c.Validate rejects and on a negative
// maxKeys.
func NewKeyed(c Config, maxKeys int) *Keyed {
	if maxKeys < 0 {
		panic(fmt.Sprintf("ratelimit: NewKeyed: negative maxKeys %d", maxKeys))
	}
	if maxKeys == 0 {
		maxKeys = defaultMaxKeys
	}
	k := &Keyed{core: newCore(c)}
	if c.Store != nil {
		k.prefix = c.Key + ":"
	} else {
		k.buckets = newLRU[*bucket](maxKeys)
	}
	return k
}

// Do runs fn under key's limit, as [Limiter.Do] does under its one limit.
// A key that is empty or longer than [MaxKeyLen] bytes (with a Store: whose
// store key, Config.Key + ":" + key, is longer) runs nothing and returns
// an error matching [ErrInvalidKey]: it is neither a panic nor a refusal,
// and emits no event. A nil fn returns resilience.ErrNilFunc.
func (k *Keyed) Do(ctx context.Context, key string, fn resilience.Func) error {
	if fn == nil {
		return resilience.ErrNilFunc
	}
	lim, skey, err := k.find(key)
	if err != nil {
		return err
	}
	return k.do(ctx, lim, skey, nil, fn)
}

// Allow reports whether key's limit has a token free now, and takes it if
// so, as [Limiter.Allow] does. An invalid key (see Do) is false.
func (k *Keyed) Allow(key string) bool {
	lim, skey, err := k.find(key)
	if err != nil {
		return false
	}
	return k.allow(lim, skey)
}

// Len reports how many keys have a local bucket: never more than maxKeys;
// zero with a Store.
func (k *Keyed) Len() int {
	if k.buckets == nil {
		return 0
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.buckets.len()
}

// find returns key's local bucket, made if it has none, or, with a Store,
// its store key; or an error matching ErrInvalidKey.
func (k *Keyed) find(key string) (*bucket, string, error) {
	if k.store != nil {
		if key == "" {
			return nil, "", checkKey(key)
		}
		skey := k.prefix + key
		return nil, skey, checkKey(skey)
	}
	if err := checkKey(key); err != nil {
		return nil, "", err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	lim, ok := k.buckets.get(key)
	if !ok {
		lim = k.bucket()
		k.buckets.add(key, lim)
	}
	return lim, "", nil
}
