// Package census counts distinct clusters over a period, exactly, from the
// store's cluster runs: how many clusters reported each dimension value at
// least once in the period, how many could report each dimension at all,
// and how many were active. Each dimension's values are combined per
// cluster by its rule (facts.Specs): a cluster counts once under the
// largest bucket of a bucketed dimension, under every value of the others
// (and of a dimension that has no spec yet).
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

// Query says what to count: the days [From, To] (UTC dates), and Version
// (facts.AllVersions or empty: every cluster; else only the days on which a
// cluster ran that version count, as the cluster's roll-ups do).
type Query struct {
	From, To time.Time
	Version  string
}

// Count counts the distinct clusters of each kind in the query's period.
func Count(set store.RunSet, q Query) map[store.Kind]*Counts {
	c := newCounter(set, q.Version, nil)
	from, to := store.Day(q.From), store.Day(q.To)
	tallies := map[store.Kind]*tally{}
	var picked []*profile
	c.eachCluster(func(kind store.Kind, runs []store.Run) {
		picked = picked[:0]
		for _, r := range runs {
			if !r.Last.Before(from) && !r.First.After(to) {
				picked = c.pick(picked, r.Profile)
			}
		}
		if len(picked) > 0 {
			c.tallyOf(tallies, kind).add(c, picked)
		}
	})
	return c.counts(tallies)
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
		weeks = append(weeks, Week{Monday: monday, From: d, To: end})
		d = end.AddDate(0, 0, 1)
	}
	c := newCounter(set, version, dimensions)
	tallies := make([]map[store.Kind]*tally, len(weeks))
	for i := range tallies {
		tallies[i] = map[store.Kind]*tally{}
	}
	byWeek := make([][]*profile, len(weeks))
	first := Monday(from)
	c.eachCluster(func(kind store.Kind, runs []store.Run) {
		var touched []int
		for _, r := range runs {
			if r.Last.Before(from) || r.First.After(to) {
				continue
			}
			start, end := later(r.First, from), earlier(r.Last, to)
			for w := weekIndex(first, start); w <= weekIndex(first, end); w++ {
				if len(byWeek[w]) == 0 {
					touched = append(touched, w)
				}
				byWeek[w] = c.pick(byWeek[w], r.Profile)
			}
		}
		for _, w := range touched {
			if len(byWeek[w]) > 0 {
				c.tallyOf(tallies[w], kind).add(c, byWeek[w])
			}
			byWeek[w] = byWeek[w][:0]
		}
	})
	for i := range weeks {
		weeks[i].Counts = c.counts(tallies[i])
	}
	return weeks
}

func weekIndex(firstMonday, day time.Time) int { return int(day.Sub(firstMonday).Hours()/24) / 7 }

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Monday returns the Monday of t's ISO week.
func Monday(t time.Time) time.Time {
	d := store.Day(t)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}

// counter holds a run set's profiles with their values numbered, so that
// a cluster's values are made distinct with a mark per value, not a map.
type counter struct {
	set     store.RunSet
	version string
	// values: every (dimension, value) of the profiles, by number.
	values []value
	// specs: the dimensions counted, by number.
	specs    []facts.Spec
	profiles map[int64]*profile
}

type value struct {
	spec  int // index in specs
	value string
	rank  int
}

// profile is one stored profile: its value numbers, and its versions.
type profile struct {
	values   []int
	versions []string
	// matches: the profile counts for the version asked for.
	matches bool
}

func newCounter(set store.RunSet, version string, only []string) *counter {
	if version == facts.AllVersions {
		version = ""
	}
	c := &counter{set: set, version: version, profiles: map[int64]*profile{}}
	specIndex := map[string]int{}
	for _, spec := range facts.Specs {
		if len(only) > 0 && !slices.Contains(only, spec.Name) {
			continue
		}
		specIndex[spec.Name] = len(c.specs)
		c.specs = append(c.specs, spec)
	}
	numbers := map[facts.Fact]int{}
	for id, fs := range set.Profiles {
		p := &profile{}
		for _, f := range fs {
			if f.Dimension == facts.Version {
				p.versions = append(p.versions, f.Value)
			}
			si, ok := specIndex[f.Dimension]
			if !ok {
				if len(only) > 0 && !slices.Contains(only, f.Dimension) {
					continue
				}
				if _, known := facts.SpecOf(f.Dimension); known {
					continue
				}
				// A dimension of no spec yet (a metric added before its
				// rule): each value, covered by the clusters that stated one.
				si = len(c.specs)
				specIndex[f.Dimension] = si
				c.specs = append(c.specs, facts.Spec{Name: f.Dimension, Combine: facts.EachValue})
			}
			key := facts.Fact{Dimension: f.Dimension, Value: f.Value}
			n, seen := numbers[key]
			if !seen {
				n = len(c.values)
				numbers[key] = n
				c.values = append(c.values, value{spec: si, value: f.Value, rank: c.specs[si].Rank(f.Value)})
			}
			p.values = append(p.values, n)
		}
		p.matches = version == "" || slices.Contains(p.versions, version)
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

// pick adds the profile id to a cluster's list when it counts (the version
// asked for) and is not there yet.
func (c *counter) pick(list []*profile, id int64) []*profile {
	p := c.profiles[id]
	if p == nil || !p.matches || slices.Contains(list, p) {
		return list
	}
	return append(list, p)
}

// tally is one kind's counts while clusters are added.
type tally struct {
	active  int
	values  []int // clusters per value number
	covered []int // clusters per spec
	// marks make each cluster count once per value and spec: the number
	// of the cluster last counted there.
	valueMark, specMark []int
	best                []int // per spec: the cluster's largest value, or -1
}

func (c *counter) tallyOf(m map[store.Kind]*tally, kind store.Kind) *tally {
	t := m[kind]
	if t == nil {
		t = &tally{values: make([]int, len(c.values)), covered: make([]int, len(c.specs)),
			valueMark: make([]int, len(c.values)), specMark: make([]int, len(c.specs)), best: make([]int, len(c.specs))}
		m[kind] = t
	}
	return t
}

// add counts one cluster whose days in the period had these profiles.
func (t *tally) add(c *counter, profiles []*profile) {
	t.active++
	mark := t.active // this cluster's number in the tally
	for i := range t.best {
		t.best[i] = -1
	}
	for _, p := range profiles {
		for _, v := range p.values {
			val := c.values[v]
			spec := c.specs[val.spec]
			t.specMark[val.spec] = mark
			if spec.Combine == facts.LargestValue {
				if b := t.best[val.spec]; b < 0 || val.rank > c.values[b].rank || (val.rank == c.values[b].rank && val.value > c.values[b].value) {
					t.best[val.spec] = v
				}
				continue
			}
			if t.valueMark[v] != mark {
				t.valueMark[v] = mark
				t.values[v]++
			}
		}
	}
	for si, spec := range c.specs {
		if b := t.best[si]; b >= 0 {
			t.values[b]++
		}
		covered := t.specMark[si] == mark
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
			t.covered[si]++
		}
	}
}

// counts turns the tallies into Counts.
func (c *counter) counts(tallies map[store.Kind]*tally) map[store.Kind]*Counts {
	out := map[store.Kind]*Counts{}
	for kind, t := range tallies {
		counts := &Counts{Active: t.active, Values: map[string]map[string]int{}, Covered: map[string]int{}}
		for si, spec := range c.specs {
			if t.covered[si] > 0 {
				counts.Covered[spec.Name] = t.covered[si]
			}
		}
		for v, n := range t.values {
			if n == 0 {
				continue
			}
			name := c.specs[c.values[v].spec].Name
			if counts.Values[name] == nil {
				counts.Values[name] = map[string]int{}
			}
			counts.Values[name][c.values[v].value] = n
		}
		out[kind] = counts
	}
	return out
}
