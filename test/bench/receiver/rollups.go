package main

import (
	"sort"
	"time"

	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

// yearDays is how many days of roll-ups the scale phase loads.
const yearDays = 365

// activeOn says whether the cluster reports on the day `ago` days before
// the last day of the year, and which generation it runs then.
func (c *cluster) activeOn(ago int) (gen int, active bool) {
	if ago > c.firstDay {
		return 0, false
	}
	if c.upgradeDay > 0 && ago >= c.upgradeDay {
		return c.gen - 1, true
	}
	return c.gen, true
}

// clusterFacts is what one cluster of a profile running a generation
// states in a day (the facts of its report, as the store derives them),
// without country and stanza amounts, which differ per cluster.
func (w *world) clusterFacts(profile, g int) []facts.Fact {
	w.mu.Lock()
	fs, ok := w.factCache[[2]int{profile, g}]
	w.mu.Unlock()
	if ok {
		return fs
	}
	reports := w.report(&cluster{profile: profile}, g, 0)
	fs = facts.FromEvents(reports[0].Events, "")
	w.mu.Lock()
	w.factCache[[2]int{profile, g}] = fs
	w.mu.Unlock()
	return fs
}

// rollupKey is one roll-up row's identity within a day.
type rollupKey struct {
	kind                      store.Kind
	version, dimension, value string
}

// rollupRows computes the roll-up rows of the day `ago` days before the
// last one, as RollUp would from the clusters' facts: per kind, for all
// versions and for each version, the distinct clusters per dimension
// value, and the sums of stanza increments. Clusters that state the same
// facts are counted as a group, so a day costs far less than its 10,000
// clusters' facts one by one.
func (w *world) rollupRows(ago int, day time.Time) []store.RollupRow {
	type group struct {
		kind    store.Kind
		profile int
		gen     int
	}
	type tally struct{ clusters, stanza int64 }
	groups := map[group]*tally{}
	extra := map[rollupKey]*tally{} // country, stanza volume, new/returning
	add := func(m map[rollupKey]*tally, k rollupKey, stanza int64) {
		t := m[k]
		if t == nil {
			t = &tally{}
			m[k] = t
		}
		t.clusters++
		t.stanza += stanza
	}
	for _, c := range w.clusters {
		g, ok := c.activeOn(ago)
		if !ok {
			continue
		}
		gk := group{c.kind, c.profile, g}
		t := groups[gk]
		if t == nil {
			t = &tally{}
			groups[gk] = t
		}
		t.clusters++
		// A day's increments of one stanza type: every node, every cycle.
		perType := c.stanzaIncrement() * nodesPerCluster * cyclesPerDay
		t.stanza += perType
		types := int64(0)
		for _, f := range w.clusterFacts(c.profile, g) {
			if f.Dimension == facts.Stanza {
				types++
			}
		}
		seen := facts.ClustersReturning
		if ago == c.firstDay {
			seen = facts.ClustersNew
		}
		for _, v := range []string{facts.AllVersions, w.gens[g].version} {
			add(extra, rollupKey{c.kind, v, facts.Country, c.country}, 0)
			add(extra, rollupKey{c.kind, v, facts.Clusters, seen}, 0)
			if types > 0 {
				add(extra, rollupKey{c.kind, v, facts.StanzaVolume, facts.StanzaVolumeBucket(perType * types)}, perType*types)
			}
		}
	}
	rows := map[rollupKey]*tally{}
	for gk, t := range groups {
		for _, f := range w.clusterFacts(gk.profile, gk.gen) {
			sum := int64(0)
			if f.Dimension == facts.Stanza {
				sum = t.stanza
			}
			for _, v := range []string{facts.AllVersions, w.gens[gk.gen].version} {
				k := rollupKey{gk.kind, v, f.Dimension, f.Value}
				r := rows[k]
				if r == nil {
					r = &tally{}
					rows[k] = r
				}
				r.clusters += t.clusters
				r.stanza += sum
			}
		}
	}
	for k, t := range extra {
		rows[k] = t
	}
	out := make([]store.RollupRow, 0, len(rows))
	for k, t := range rows {
		out = append(out, store.RollupRow{Day: day, Kind: k.kind, Version: k.version,
			Dimension: k.dimension, Value: k.value, Clusters: t.clusters, Sum: t.stanza})
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

// runs are the clusters' runs of the year ending on last, as the
// roll-ups would record them: a run per generation a cluster ran.
func (w *world) runs(last time.Time) []store.LoadedRun {
	var out []store.LoadedRun
	for _, c := range w.clusters {
		var run *store.LoadedRun
		runGen := -1
		for ago := c.firstDay; ago >= 0; ago-- {
			g, ok := c.activeOn(ago)
			if !ok {
				continue
			}
			day := last.AddDate(0, 0, -ago)
			if run != nil && g == runGen {
				run.Last = day
				continue
			}
			if run != nil {
				out = append(out, *run)
			}
			run, runGen = &store.LoadedRun{Property: c.property, ClientID: c.id, Kind: c.kind, First: day, Last: day, Facts: w.dayProfile(c, g)}, g
		}
		if run != nil {
			out = append(out, *run)
		}
	}
	return out
}

// dayProfile is what a cluster running generation g states in a day,
// combined as the roll-ups combine it.
func (w *world) dayProfile(c *cluster, g int) []facts.Fact {
	perType := c.stanzaIncrement() * nodesPerCluster * cyclesPerDay
	day := []facts.Fact{{Dimension: facts.Country, Value: c.country}}
	for _, f := range w.clusterFacts(c.profile, g) {
		if f.Dimension == facts.Stanza {
			f.Amount = perType
		}
		day = append(day, f)
	}
	return facts.CombineDay(day)
}
