package store

import (
	"slices"
	"sort"
	"time"

	"github.com/mim-metrics/mim-metrics/facts"
)

// rollup computes one day's roll-up rows from that day's facts, given one
// cluster after the other.
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

// flush counts the cluster read so far, its facts combined per cluster
// (facts.CombineDay), under "all versions" and under each version it
// reported (a cluster mid-upgrade counts under both), with its stanza
// increments and whether it is new; and keeps its profile for the runs.
func (r *rollup) flush() {
	if len(r.facts) == 0 {
		return
	}
	profile := facts.CombineDay(r.facts)
	r.profiles = append(r.profiles, clusterProfile{property: r.property, clientID: r.clientID, kind: r.kind, facts: profile})
	versions := []string{facts.AllVersions}
	counted := slices.Clone(profile)
	for _, f := range profile {
		if f.Dimension == facts.Version {
			versions = append(versions, f.Value)
		}
	}
	var stanzas int64
	for _, f := range r.facts {
		if f.Dimension == facts.Stanza {
			counted = append(counted, f)
			stanzas = facts.AddSaturating(stanzas, f.Amount)
		}
	}
	for i, f := range counted {
		if f.Dimension == facts.StanzaVolume {
			counted[i].Amount = stanzas // the day's traffic, beside its bucket
		}
	}
	age := facts.ClustersReturning
	if !Day(r.firstSeen).Before(r.day) {
		age = facts.ClustersNew
	}
	counted = append(counted, facts.Fact{Dimension: facts.Clusters, Value: age})
	for _, v := range versions {
		for _, f := range counted {
			k := rollupKey{r.kind, v, f.Dimension, f.Value}
			c := r.counts[k]
			if c == nil {
				c = &rollupCount{}
				r.counts[k] = c
			}
			c.clusters++
			c.sum = facts.AddSaturating(c.sum, f.Amount)
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
