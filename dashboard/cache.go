package dashboard

import (
	"sync"
	"time"
)

// What a page is computed from changes only when days are rolled up
// (store.RollupVersion), so pages and API calls of the same filter share
// it until then: a period's runs are read and counted once, not once per
// request (and, with Options.MaxStale, recounted in the background).

// cacheTTL bounds how long an entry is kept unused.
const cacheTTL = 10 * time.Minute

// ttlCache keeps recent values by key, for cacheTTL, at most max of them.
type ttlCache[V any] struct {
	mu      sync.Mutex
	now     func() time.Time
	max     int
	entries map[string]cached[V]
}

type cached[V any] struct {
	v  V
	at time.Time
}

func newCache[V any](now func() time.Time, max int) *ttlCache[V] {
	return &ttlCache[V]{now: now, max: max, entries: map[string]cached[V]{}}
}

// get returns the value of key if it is fresh.
func (c *ttlCache[V]) get(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || c.now().Sub(e.at) > cacheTTL {
		var zero V
		return zero, false
	}
	return e.v, true
}

// put keeps a value, dropping the stale ones, or the oldest when full.
func (c *ttlCache[V]) put(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	at := c.now()
	oldest := ""
	for k, old := range c.entries {
		if at.Sub(old.at) > cacheTTL {
			delete(c.entries, k)
			continue
		}
		if oldest == "" || old.at.Before(c.entries[oldest].at) {
			oldest = k
		}
	}
	if len(c.entries) >= c.max && oldest != "" {
		delete(c.entries, oldest)
	}
	c.entries[key] = cached[V]{v: v, at: at}
}

// loaded is what load returns for a filter: the page input, the versions
// the admin's filter offers, the key of the charts built from it, and the
// roll-up version it was counted from, and when.
type loaded struct {
	in       *pageInput
	versions []string
	key      string
	version  int64
	at       time.Time
}
