package receiver

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/mim-metrics/mim-metrics/store"
)

// Ingest health counters (store.IngestCount names).
const (
	// countRequests counts every ingest request (/debug/mp/collect's too).
	countRequests = "requests"
	// countStored counts stored batches.
	countStored = "stored"
	// countDuplicate counts retried requests that were already stored.
	countDuplicate = "duplicate"
	// countRejected counts requests refused as a whole, by reason.
	countRejected = "rejected"
	// countDropped counts events dropped from good requests, by reason.
	countDropped = "dropped"
	// countUncounted counts batches stored but left out of the roll-ups.
	countUncounted = "uncounted"
	// countImported counts the batches of imported report files.
	countImported = "imported"

	// countRollUpFailed counts the failed roll-ups of a day (under that
	// day), retried with a back-off.
	countRollUpFailed = "roll-up failed"
)

// CountRollUpFailure counts a failed roll-up of day in the ingest health
// (Jobs.RollUpFailed), for the admin page.
func (rc *Receiver) CountRollUpFailure(day time.Time) {
	rc.health.add(day, "", countRollUpFailed, "retried with a back-off", 1)
}

// reasonTooManyClusters is the reason of countUncounted.
const reasonTooManyClusters = "uncounted cluster: too many clusters from one address"

type countKey struct {
	day      time.Time
	property string
	name     string
	reason   string
}

// health accumulates ingest counts in memory until they are flushed to the
// store.
type health struct {
	mu sync.Mutex
	m  map[countKey]int64
}

func (h *health) add(now time.Time, property, name, reason string, n int64) {
	if n == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = map[countKey]int64{}
	}
	h.m[countKey{store.Day(now), property, name, reason}] += n
}

// flush writes the counts to st; on failure they are kept for the next
// flush. wrote: there were counts and they are written.
func (h *health) flush(ctx context.Context, st store.Store) (wrote bool, err error) {
	h.mu.Lock()
	m := h.m
	h.m = nil
	h.mu.Unlock()
	if len(m) == 0 {
		return false, nil
	}
	counts := make([]store.IngestCount, 0, len(m))
	for k, n := range m {
		counts = append(counts, store.IngestCount{Day: k.day, Property: k.property, Name: k.name, Reason: k.reason, N: n})
	}
	sort.Slice(counts, func(i, j int) bool {
		a, b := counts[i], counts[j]
		if !a.Day.Equal(b.Day) {
			return a.Day.Before(b.Day)
		}
		return fmt.Sprint(a.Property, a.Name, a.Reason) < fmt.Sprint(b.Property, b.Name, b.Reason)
	})
	if err := st.AddIngestCounts(ctx, counts); err != nil {
		h.mu.Lock()
		defer h.mu.Unlock()
		if h.m == nil {
			h.m = map[countKey]int64{}
		}
		for k, n := range m {
			h.m[k] += n
		}
		return false, fmt.Errorf("flush ingest counts: %w", err)
	}
	return true, nil
}
