package store

import (
	"sort"
	"time"

	"github.com/mim-metrics/mim-metrics/facts"
)

// rollup tallies one day's roll-up rows from that day's facts, given one
// cluster after the other: what each cluster's facts count for is
// facts.OfClusterDay's, the tally is distinct clusters and summed amounts
// per kind, version and dimension value.
type rollup struct {
	day time.Time

	// the cluster being read
	property, clientID string
	kind               Kind
	firstSeen          time.Time
	facts              []facts.Fact

	counts map[rollupKey]*rollupCount
	// profiles: each cluster's combined facts of the day (the runs).
	profiles []clusterProfile
}

type rollupKey struct {
	kind                      Kind
	version, dimension, value string
}

type rollupCount struct{ clusters, sum int64 }

func newRollup(day time.Time) *rollup {
	return &rollup{day: day, counts: map[rollupKey]*rollupCount{}}
}

// startCluster begins the facts of another cluster.
func (r *rollup) startCluster(property, clientID string, kind Kind, firstSeen time.Time) {
	r.flush()
	r.property, r.clientID, r.kind, r.firstSeen = property, clientID, kind, firstSeen
}

// add takes one fact of the current cluster.
func (r *rollup) add(f facts.Fact) {
	r.facts = append(r.facts, f)
}

// flush counts the cluster read so far and keeps its profile for the runs.
func (r *rollup) flush() {
	if len(r.facts) == 0 {
		return
	}
	d := facts.OfClusterDay(r.day, r.firstSeen, r.facts)
	r.profiles = append(r.profiles, clusterProfile{property: r.property, clientID: r.clientID, kind: r.kind, facts: d.Profile})
	for _, v := range d.Versions {
		for _, f := range d.Counted {
			k := rollupKey{r.kind, v, f.Dimension, f.Value}
			c := r.counts[k]
			if c == nil {
				c = &rollupCount{}
				r.counts[k] = c
			}
			c.clusters++
			c.sum = facts.AddAmounts(c.sum, f.Amount)
		}
	}
	r.facts = r.facts[:0]
}

// rows returns the day's rows, sorted by kind, version, dimension, value.
func (r *rollup) rows() []RollupRow {
	r.flush()
	out := make([]RollupRow, 0, len(r.counts))
	for k, c := range r.counts {
		out = append(out, RollupRow{Day: r.day, Kind: k.kind, Version: k.version, Dimension: k.dimension,
			Value: k.value, Clusters: c.clusters, Sum: c.sum})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Version != b.Version {
			return a.Version < b.Version
		}
		if a.Dimension != b.Dimension {
			return a.Dimension < b.Dimension
		}
		return a.Value < b.Value
	})
	return out
}
