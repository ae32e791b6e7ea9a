// Package census counts distinct clusters over a period, exactly, from the
// store's cluster runs: how many clusters reported each dimension value at
// least once in the period, how many could report each dimension at all,
// and how many were active. Each dimension's values are combined per
// cluster by its rule (facts.Specs): a cluster counts once under the
// largest bucket of a bucketed dimension, under every value of the others.
package census

import (
	"slices"
	"time"

	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

// Counts are one property kind's distinct clusters in a period.
type Counts struct {
	// Active is the clusters that reported at least once.
	Active int
	// Values is, per dimension and value, the clusters that reported it.
	Values map[string]map[string]int
	// Covered is, per dimension, the clusters that could report it: those
	// that reported a value, and for a dimension whose absence means none
	// (facts.Spec.AbsentMeansNone) those whose version can report it.
	// Active minus Covered is the dimension's "not reported".
	Covered map[string]int
}

// Value returns the clusters that reported value of dimension.
func (c *Counts) Value(dimension, value string) int {
	if c == nil {
		return 0
	}
	return c.Values[dimension][value]
}

// NotReported is the active clusters that could not report dimension.
func (c *Counts) NotReported(dimension string) int {
	if c == nil {
		return 0
	}
	return c.Active - c.Covered[dimension]
}

// Query says what to count: the days [From, To] (UTC dates), and Version
// (facts.AllVersions or empty: every cluster; else only the days on which a
// cluster ran that version count, as the cluster's roll-ups do).
type Query struct {
	From, To time.Time
	Version  string
}

// Count counts the distinct clusters of each kind in the query's period.
func Count(set store.RunSet, q Query) map[store.Kind]*Counts {
	c := newCounter(set, q.Version)
	from, to := store.Day(q.From), store.Day(q.To)
	out := map[store.Kind]*Counts{}
	c.eachCluster(func(kind store.Kind, runs []store.Run) {
		profiles := c.profilesIn(runs, from, to)
		if len(profiles) == 0 {
			return
		}
		counts := out[kind]
		if counts == nil {
			counts = &Counts{Values: map[string]map[string]int{}, Covered: map[string]int{}}
			out[kind] = counts
		}
		c.add(counts, profiles)
	})
	return out
}

// Week is one ISO week's distinct clusters (weeks start on Monday).
type Week struct {
	// Monday is the week's first day; From and To are the days of it
	// inside the period asked for (the first and last week may be partial).
	Monday, From, To time.Time
	Counts           map[store.Kind]*Counts
}

// Weekly counts the distinct clusters of each ISO week of [from, to], each
// week on its own, for the given dimensions only (and the active clusters).
func Weekly(set store.RunSet, from, to time.Time, version string, dimensions ...string) []Week {
	from, to = store.Day(from), store.Day(to)
	var weeks []Week
	for d := from; !d.After(to); {
		monday := Monday(d)
		end := monday.AddDate(0, 0, 6)
		if end.After(to) {
			end = to
		}
		weeks = append(weeks, Week{Monday: monday, From: d, To: end, Counts: map[store.Kind]*Counts{}})
		d = end.AddDate(0, 0, 1)
	}
	c := newCounter(set, version)
	c.only = dimensions
	c.eachCluster(func(kind store.Kind, runs []store.Run) {
		for i := range weeks {
			w := &weeks[i]
			profiles := c.profilesIn(runs, w.From, w.To)
			if len(profiles) == 0 {
				continue
			}
			counts := w.Counts[kind]
			if counts == nil {
				counts = &Counts{Values: map[string]map[string]int{}, Covered: map[string]int{}}
				w.Counts[kind] = counts
			}
			c.add(counts, profiles)
		}
	})
	return weeks
}

// Monday returns the Monday of t's ISO week.
func Monday(t time.Time) time.Time {
	d := store.Day(t)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}

// counter holds a run set's profiles, indexed for counting.
type counter struct {
	set      store.RunSet
	version  string
	only     []string // dimensions counted; empty: all
	profiles map[int64]*profile
}

// profile is one stored profile's facts by dimension.
type profile struct {
	values   map[string][]string
	versions []string
}

func newCounter(set store.RunSet, version string) *counter {
	if version == facts.AllVersions {
		version = ""
	}
	c := &counter{set: set, version: version, profiles: map[int64]*profile{}}
	for id, fs := range set.Profiles {
		p := &profile{values: map[string][]string{}}
		for _, f := range fs {
			p.values[f.Dimension] = append(p.values[f.Dimension], f.Value)
			if f.Dimension == facts.Version {
				p.versions = append(p.versions, f.Value)
			}
		}
		c.profiles[id] = p
	}
	return c
}

// eachCluster calls fn with each cluster's runs (the store gives them
// ordered by cluster).
func (c *counter) eachCluster(fn func(kind store.Kind, runs []store.Run)) {
	runs := c.set.Runs
	for start := 0; start < len(runs); {
		end := start + 1
		for end < len(runs) && runs[end].Property == runs[start].Property && runs[end].ClientID == runs[start].ClientID {
			end++
		}
		fn(runs[start].Kind, runs[start:end])
		start = end
	}
}

// profilesIn returns the distinct profiles of one cluster's runs on the
// days [from, to], only those of the version asked for.
func (c *counter) profilesIn(runs []store.Run, from, to time.Time) []*profile {
	var out []*profile
	for _, r := range runs {
		if r.Last.Before(from) || r.First.After(to) {
			continue
		}
		p := c.profiles[r.Profile]
		if p == nil || (c.version != "" && !slices.Contains(p.versions, c.version)) {
			continue
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// add counts one cluster whose days in the period had these profiles.
func (c *counter) add(counts *Counts, profiles []*profile) {
	counts.Active++
	for _, spec := range facts.Specs {
		if len(c.only) > 0 && !slices.Contains(c.only, spec.Name) {
			continue
		}
		values := clusterValues(spec, profiles)
		covered := len(values) > 0
		if !covered && spec.AbsentMeansNone {
			for _, p := range profiles {
				if len(p.versions) == 0 && spec.CanReport("") {
					covered = true
				}
				for _, v := range p.versions {
					covered = covered || spec.CanReport(v)
				}
			}
		}
		if covered {
			counts.Covered[spec.Name]++
		}
		if len(values) == 0 {
			continue
		}
		byValue := counts.Values[spec.Name]
		if byValue == nil {
			byValue = map[string]int{}
			counts.Values[spec.Name] = byValue
		}
		for _, v := range values {
			byValue[v]++
		}
	}
}

// clusterValues is a cluster's values of one dimension over its profiles,
// combined by the dimension's rule: the largest one, or each one once.
func clusterValues(spec facts.Spec, profiles []*profile) []string {
	var out []string
	for _, p := range profiles {
		for _, v := range p.values[spec.Name] {
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
		}
	}
	if spec.Combine != facts.LargestValue || len(out) < 2 {
		return out
	}
	best := out[0]
	for _, v := range out[1:] {
		if r, rb := spec.Rank(v), spec.Rank(best); r > rb || (r == rb && v > best) {
			best = v
		}
	}
	return []string{best}
}
