package receiver

import (
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/mim-metrics/mim-metrics/store"
)

// maxTracked bounds the keys (client ids, addresses) a limiter or the
// cluster counter keeps in memory.
const maxTracked = 100_000

// keyedLimiter is one token bucket per key, in memory only. When it holds
// maxTracked keys it forgets those whose bucket is full again (idle); if
// all are busy it starts afresh, letting traffic through rather than
// growing without bound.
type keyedLimiter struct {
	limit Limit
	mu    sync.Mutex
	m     map[string]*rate.Limiter
}

func newKeyedLimiter(l Limit) *keyedLimiter {
	return &keyedLimiter{limit: l, m: map[string]*rate.Limiter{}}
}

// allow takes one token from key's bucket at now.
func (k *keyedLimiter) allow(key string, now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	l := k.m[key]
	if l == nil {
		if len(k.m) >= maxTracked {
			k.prune(now)
		}
		l = rate.NewLimiter(k.limit.Rate, k.limit.Burst)
		k.m[key] = l
	}
	return l.AllowN(now, 1)
}

func (k *keyedLimiter) prune(now time.Time) {
	for key, l := range k.m {
		if l.TokensAt(now) >= float64(k.limit.Burst) {
			delete(k.m, key)
		}
	}
	if len(k.m) >= maxTracked {
		k.m = map[string]*rate.Limiter{}
	}
}

// clusterCounter decides which batches count in the roll-ups: per source
// address and UTC day, the first max distinct client ids do; the others'
// batches are kept with Counted false. In memory only: it starts empty at
// each start and each UTC day, and with several receivers each keeps its
// own. When maxTracked addresses are known in one day, new addresses are
// counted (and the overflow reported) rather than tracked.
type clusterCounter struct {
	max int
	mu  sync.Mutex
	day time.Time
	m   map[netip.Prefix]map[string]bool
}

func newClusterCounter(max int) *clusterCounter {
	return &clusterCounter{max: max, m: map[netip.Prefix]map[string]bool{}}
}

// counted says whether a batch of clientID from addr counts.
func (c *clusterCounter) counted(addr netip.Prefix, clientID string, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if day := store.Day(now); !day.Equal(c.day) {
		c.day, c.m = day, map[netip.Prefix]map[string]bool{}
	}
	ids := c.m[addr]
	if ids == nil {
		if len(c.m) >= maxTracked {
			return true
		}
		ids = map[string]bool{}
		c.m[addr] = ids
	}
	if ids[clientID] {
		return true
	}
	if len(ids) >= c.max {
		return false
	}
	ids[clientID] = true
	return true
}
