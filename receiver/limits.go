package receiver

import (
	"container/list"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/mim-metrics/mim-metrics/store"
)

// DefaultMaxTracked bounds the keys (client ids, addresses) a rate limiter
// keeps in memory, and the addresses the cluster counter tracks a day. A
// key costs 240 bytes with a UUID client id, 310 with one of 100 bytes (its
// bucket, its place in the recency list; measured): the two limiters take
// at most about 55 MB.
const DefaultMaxTracked = 100_000

// evictScan is how many of the least recently used keys a full limiter
// looks at for one to forget.
const evictScan = 16

// keyedLimiter is one token bucket per key, in memory only, for at most
// max keys. When it is full, a new key takes the place of the least
// recently used key whose bucket is not exhausted (an exhausted one is a
// limited client: forgetting it would give it a fresh bucket). When the
// evictScan least recently used keys are all limited, the new key is not
// tracked: it gets a fresh bucket as any new key would, and no limited
// client is forgotten. No flood resets everyone.
type keyedLimiter struct {
	limit Limit
	max   int
	mu    sync.Mutex
	m     map[string]*list.Element // of *limiterEntry
	lru   list.List                // front: the most recently used
}

type limiterEntry struct {
	key string
	l   *rate.Limiter
}

func newKeyedLimiter(l Limit, max int) *keyedLimiter {
	if max <= 0 {
		max = DefaultMaxTracked
	}
	return &keyedLimiter{limit: l, max: max, m: map[string]*list.Element{}}
}

// allow takes one token from key's bucket at now.
func (k *keyedLimiter) allow(key string, now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if el := k.m[key]; el != nil {
		k.lru.MoveToFront(el)
		return el.Value.(*limiterEntry).l.AllowN(now, 1)
	}
	l := rate.NewLimiter(k.limit.Rate, k.limit.Burst)
	if len(k.m) >= k.max && !k.evict(now) {
		return l.AllowN(now, 1) // untracked
	}
	k.m[key] = k.lru.PushFront(&limiterEntry{key, l})
	return l.AllowN(now, 1)
}

// evict forgets one of the least recently used keys that is not limited;
// false when none of the evictScan last is.
func (k *keyedLimiter) evict(now time.Time) bool {
	el := k.lru.Back()
	for range evictScan {
		if el == nil {
			return false
		}
		e := el.Value.(*limiterEntry)
		if e.l.TokensAt(now) >= 1 {
			k.lru.Remove(el)
			delete(k.m, e.key)
			return true
		}
		el = el.Prev()
	}
	return false
}

// peek is key's bucket, nil when untracked, without using it.
func (k *keyedLimiter) peek(key string) *rate.Limiter {
	k.mu.Lock()
	defer k.mu.Unlock()
	if el := k.m[key]; el != nil {
		return el.Value.(*limiterEntry).l
	}
	return nil
}

// size is how many keys are tracked.
func (k *keyedLimiter) size() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.m)
}

// clusterCounter decides which batches count in the roll-ups: per
// property, source address and UTC day, the first max distinct client ids
// do (the property's own max, if it has one); the others' batches are kept
// with Counted false. In memory only: it starts empty at each start and
// each UTC day, and with several receivers each keeps its own. When
// maxTracked property and address pairs are known in one day, new ones are
// counted rather than tracked.
type clusterCounter struct {
	max        int
	byProperty map[string]int
	maxTracked int
	mu         sync.Mutex
	day        time.Time
	m          map[propertyAddr]map[string]bool
}

type propertyAddr struct {
	property string
	addr     netip.Prefix
}

func newClusterCounter(max int, byProperty map[string]int, maxTracked int) *clusterCounter {
	if maxTracked <= 0 {
		maxTracked = DefaultMaxTracked
	}
	return &clusterCounter{max: max, byProperty: byProperty, maxTracked: maxTracked, m: map[propertyAddr]map[string]bool{}}
}

// counted says whether a batch of clientID to property from addr counts.
func (c *clusterCounter) counted(property string, addr netip.Prefix, clientID string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if day := store.Day(now); !day.Equal(c.day) {
		c.day, c.m = day, map[propertyAddr]map[string]bool{}
	}
	k := propertyAddr{property, addr}
	ids := c.m[k]
	if ids == nil {
		if len(c.m) >= c.maxTracked {
			return true
		}
		ids = map[string]bool{}
		c.m[k] = ids
	}
	if ids[clientID] {
		return true
	}
	max, ok := c.byProperty[property]
	if !ok {
		max = c.max
	}
	if len(ids) >= max {
		return false
	}
	ids[clientID] = true
	return true
}
