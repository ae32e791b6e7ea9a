package dashboard

import (
	"sync"
	"time"
)

// What a page is computed from changes only when days are rolled up
// (store.RollupVersion), so pages and API calls of the same filter share
// it until then: a period's runs are read and counted once, not once per
// request.

// cacheTTL bounds how long an entry is kept (its key names the roll-up
// version it was computed from: it is never stale, only unused).
const cacheTTL = 10 * time.Minute

// cacheEntries bounds the cache (filters differ by period, kind, version
// and the set of charts).
const cacheEntries = 64

// inputCache keeps recent page inputs by key, for cacheTTL.
type inputCache struct {
	mu      sync.Mutex
	now     func() time.Time
	entries map[string]cacheEntry
}

type cacheEntry struct {
	in       *pageInput
	versions []string
	at       time.Time
}

func newInputCache(now func() time.Time) *inputCache {
	return &inputCache{now: now, entries: map[string]cacheEntry{}}
}

// get returns the entry of key if it is fresh.
func (c *inputCache) get(key string) (cacheEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || c.now().Sub(e.at) > cacheTTL {
		return cacheEntry{}, false
	}
	return e, true
}

// put keeps an entry, dropping the stale ones, or the oldest when full.
func (c *inputCache) put(key string, e cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e.at = c.now()
	oldest := ""
	for k, old := range c.entries {
		if e.at.Sub(old.at) > cacheTTL {
			delete(c.entries, k)
			continue
		}
		if oldest == "" || old.at.Before(c.entries[oldest].at) {
			oldest = k
		}
	}
	if len(c.entries) >= cacheEntries && oldest != "" {
		delete(c.entries, oldest)
	}
	c.entries[key] = e
}
