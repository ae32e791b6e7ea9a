package dashboard

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

// chartType says how a chart turns roll-up rows into points.
type chartType string

const (
	// shares: per value, clusters per day averaged over the period and the
	// share of active clusters.
	shares chartType = "shares"
	// daily: per value and day, the day's distinct clusters.
	daily chartType = "daily"
	// weekly: per value and week (from Monday), clusters per day averaged
	// over the week and the share of the week's active clusters.
	weekly chartType = "weekly"
	// sums: per value and day, the sum of the amounts (stanza increments).
	sums chartType = "sums"
)

// otherLabel is what values below the public threshold are folded into.
const otherLabel = "other"

// chartDef is one chart: what it counts and how.
type chartDef struct {
	ID        string
	Title     string
	About     string
	Dimension string
	Type      chartType
	// Grouped: values are "group/label" (module/backend), drawn per group.
	Grouped bool
	// NoFold: the values are fixed categories (new/returning), never folded.
	NoFold bool
}

// charts lists every chart, by id.
var charts = []chartDef{
	{ID: "backends", Title: "Backends per module", Dimension: facts.ModuleBackend, Type: shares, Grouped: true,
		About: "Share of active clusters reporting each backend of each known module; a backend no cluster reported is shown as 0."},
	{ID: "modules", Title: "Modules", Dimension: facts.Module, Type: shares,
		About: "Share of active clusters running each module."},
	{ID: "active", Title: "Active clusters per day", Dimension: facts.Clusters, Type: daily, NoFold: true,
		About: "Distinct clusters that reported each day: new (first seen that day) and returning."},
	{ID: "versions", Title: "Version adoption", Dimension: facts.Version, Type: weekly,
		About: "Share of active clusters per server version, per week (weeks start on Monday)."},
	{ID: "nodes", Title: "Nodes per cluster", Dimension: facts.NodeNumber, Type: shares},
	{ID: "hosts", Title: "Hosts (host types) per cluster", Dimension: facts.Hosts, Type: shares},
	{ID: "domains", Title: "Domains per cluster", Dimension: facts.Domains, Type: shares},
	{ID: "config-type", Title: "Configuration file type", Dimension: facts.ConfigType, Type: shares},
	{ID: "custom-modules", Title: "Clusters with custom modules", Dimension: facts.CustomModules, Type: shares},
	{ID: "components", Title: "External components per cluster", Dimension: facts.Components, Type: shares},
	{ID: "transports", Title: "Transports", Dimension: facts.Transport, Type: shares},
	{ID: "http-apis", Title: "HTTP APIs", Dimension: facts.HTTPAPI, Type: shares},
	{ID: "tls", Title: "TLS mode / library", Dimension: facts.TLS, Type: shares},
	{ID: "pools", Title: "Outgoing pool types", Dimension: facts.Pool, Type: shares},
	{ID: "stanzas", Title: "Stanzas per day", Dimension: facts.Stanza, Type: sums,
		About: "Sum over clusters of the stanza counters' increments reported each day, per stanza type."},
	{ID: "stanza-volume", Title: "Traffic per cluster", Dimension: facts.StanzaVolume, Type: shares,
		About: "Share of active clusters by the stanzas they counted in a day (all types summed)."},
	{ID: "countries", Title: "Clusters per country", Dimension: facts.Country, Type: shares,
		About: "Share of active clusters per country of the sender (when the receiver has a GeoIP database)."},
}

// chartByID finds a chart definition.
func chartByID(id string) (chartDef, bool) {
	for _, c := range charts {
		if c.ID == id {
			return c, true
		}
	}
	return chartDef{}, false
}

// Point is one number of a chart, as the API gives it and the page draws it.
type Point struct {
	// Series is the property kind: production or ci.
	Series string `json:"series"`
	// Group is the module of a backend (backends chart only).
	Group string `json:"group,omitempty"`
	// Label is the dimension value (or "other").
	Label string `json:"label"`
	// Day is the day (daily, sums) or the week's first day (weekly).
	Day string `json:"day,omitempty"`
	// Clusters is the distinct clusters of the day, or clusters per day
	// averaged over the period (shares) or week (weekly).
	Clusters float64 `json:"clusters"`
	// Share is Clusters divided by the active clusters of the same days.
	Share float64 `json:"share"`
	// Sum is the sum of the amounts (stanza increments).
	Sum int64 `json:"sum"`
}

// Chart is one chart's data.
type Chart struct {
	ID     string   `json:"chart"`
	Title  string   `json:"title"`
	Type   string   `json:"type"`
	Series []string `json:"series"`
	// Folded lists, per series, how many values were folded into "other".
	Folded map[string]int `json:"folded,omitempty"`
	Points []Point        `json:"points"`
	def    chartDef
}

// dayKey is a day as points and tables write it.
func dayKey(t time.Time) string { return t.Format(time.DateOnly) }

// dayNum numbers a UTC day (days since 1970-01-01): the index's key.
func dayNum(t time.Time) int32 { return int32(t.Unix() / 86400) }

// rollups indexes a period's roll-ups by kind, dimension and value: the
// daily rows of the charts drawn over time and of the active clusters, and
// the period's totals of every value.
type rollups struct {
	// active: distinct clusters per kind and day (new + returning).
	active map[store.Kind]map[int32]int64
	// cells: per kind, dimension and value, the counts by day (the charts
	// drawn over time and the active clusters only).
	cells map[valueKey]map[int32]cell
	// totals: per kind, dimension and value, the period's counts added up.
	totals map[valueKey]store.RollupTotal
	// values: the values seen per kind and dimension.
	values map[store.Kind]map[string]map[string]bool
}

type valueKey struct {
	Kind      store.Kind
	Dimension string
	Value     string
}

type cell struct{ Clusters, Sum int64 }

// indexRollups indexes the daily rows of some dimensions and the period's
// totals of others.
func indexRollups(rows []store.RollupRow, totals []store.RollupTotal) *rollups {
	r := &rollups{
		active: map[store.Kind]map[int32]int64{},
		cells:  map[valueKey]map[int32]cell{},
		totals: map[valueKey]store.RollupTotal{},
		values: map[store.Kind]map[string]map[string]bool{},
	}
	for _, row := range rows {
		day := dayNum(row.Day)
		if row.Dimension == facts.Clusters {
			if r.active[row.Kind] == nil {
				r.active[row.Kind] = map[int32]int64{}
			}
			r.active[row.Kind][day] += row.Clusters
		}
		k := valueKey{row.Kind, row.Dimension, row.Value}
		if r.cells[k] == nil {
			r.cells[k] = map[int32]cell{}
		}
		c := r.cells[k][day]
		c.Clusters += row.Clusters
		c.Sum = facts.AddAmounts(c.Sum, row.Sum)
		r.cells[k][day] = c
	}
	for k, byDay := range r.cells {
		t := store.RollupTotal{Kind: k.Kind, Dimension: k.Dimension, Value: k.Value}
		for _, c := range byDay {
			t.ClusterDays += c.Clusters
			t.MostClusters = max(t.MostClusters, c.Clusters)
			t.Sum = facts.AddAmounts(t.Sum, c.Sum)
		}
		r.totals[k] = t
	}
	for _, t := range totals {
		r.totals[valueKey{t.Kind, t.Dimension, t.Value}] = t
	}
	for k := range r.totals {
		if r.values[k.Kind] == nil {
			r.values[k.Kind] = map[string]map[string]bool{}
		}
		if r.values[k.Kind][k.Dimension] == nil {
			r.values[k.Kind][k.Dimension] = map[string]bool{}
		}
		r.values[k.Kind][k.Dimension][k.Value] = true
	}
	return r
}

// empty says whether no cluster was active in the period.
func (r *rollups) empty() bool {
	for _, days := range r.active {
		for _, n := range days {
			if n > 0 {
				return false
			}
		}
	}
	return true
}

// maxActive is the most distinct clusters of one day, over the series.
func (r *rollups) maxActive(f filter) int64 {
	var most int64
	for _, d := range f.days() {
		var n int64
		for _, s := range f.series() {
			n += r.active[s][dayNum(d)]
		}
		most = max(most, n)
	}
	return most
}

// builder builds charts from indexed rows for one filter.
type builder struct {
	rows *rollups
	f    filter
	// fold: values whose daily distinct clusters never reach minClusters in
	// the period are folded into "other" (the public view).
	fold        bool
	minClusters int64
}

// build computes one chart.
func (b builder) build(def chartDef) Chart {
	c := Chart{ID: def.ID, Title: def.Title, Type: string(def.Type), def: def, Folded: map[string]int{}}
	for _, s := range b.f.series() {
		c.Series = append(c.Series, string(s))
		var pts []Point
		var folded int
		switch def.Type {
		case shares:
			pts, folded = b.shares(def, s)
		default:
			pts, folded = b.overTime(def, s)
		}
		c.Points = append(c.Points, pts...)
		if folded > 0 {
			c.Folded[string(s)] = folded
		}
	}
	if len(c.Folded) == 0 {
		c.Folded = nil
	}
	return c
}

// folded says whether value v of the dimension is folded for series s: its
// daily distinct clusters never reached the threshold in the period.
func (b builder) folded(def chartDef, s store.Kind, v string) bool {
	if !b.fold || def.NoFold {
		return false
	}
	return b.rows.totals[valueKey{s, def.Dimension, v}].MostClusters < b.minClusters
}

// periodValue is the one place period values are computed: clusters per
// day averaged over the days with reports, and the share of active
// clusters (the averages' ratio, so the divisor cancels out).
func periodValue(clustersSum int64, activeSum int64, daysWithReports int) (avg, share float64) {
	if daysWithReports > 0 {
		avg = round(float64(clustersSum)/float64(daysWithReports), 2)
	}
	if activeSum > 0 {
		share = round(float64(clustersSum)/float64(activeSum), 4)
	}
	return avg, share
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// activeOver sums the active clusters of series s over days, and counts
// the days with any.
func (b builder) activeOver(s store.Kind, days []time.Time) (sum int64, daysWithReports int) {
	for _, d := range days {
		if n := b.rows.active[s][dayNum(d)]; n > 0 {
			sum += n
			daysWithReports++
		}
	}
	return sum, daysWithReports
}

// labelled is one value of a chart after folding: its group and label and
// the raw values folded into it.
type labelled struct {
	Group, Label string
	Values       []string
}

// labels lists the chart's values for series s in drawing order, folded
// ones merged into "other", known ones present even when not reported.
func (b builder) labels(def chartDef, s store.Kind) (out []labelled, foldedCount int) {
	seen := b.rows.values[s][def.Dimension]
	byKey := map[[2]string]*labelled{}
	add := func(group, label, value string) {
		k := [2]string{group, label}
		l := byKey[k]
		if l == nil {
			l = &labelled{Group: group, Label: label}
			byKey[k] = l
			out = append(out, *l)
		}
		if value != "" {
			l.Values = append(l.Values, value)
		}
	}
	var reported []string
	for v := range seen {
		reported = append(reported, v)
	}
	slices.Sort(reported)
	// Most clusters first among the values the table does not order.
	total := map[string]int64{}
	for _, v := range reported {
		total[v] = b.rows.totals[valueKey{s, def.Dimension, v}].ClusterDays
	}
	slices.SortStableFunc(reported, func(x, y string) int { return cmp.Compare(total[y], total[x]) })
	// A reported value below the threshold is folded, even a known one
	// (it is not drawn as zero: it is in "other").
	isFolded := map[string]bool{}
	for _, v := range reported {
		isFolded[v] = b.folded(def, s, v)
	}
	// Known values first, in their order.
	if def.Grouped {
		for _, m := range sortedKeys(knownBackends) {
			for _, be := range knownBackends[m] {
				if !isFolded[m+"/"+be] {
					add(m, be, "")
				}
			}
		}
	} else {
		for _, v := range knownValues[def.Dimension] {
			if !isFolded[v] {
				add("", v, "")
			}
		}
	}
	var other []string
	for _, v := range reported {
		group, label := "", v
		if def.Grouped {
			group, label = splitGroup(v)
			if _, known := knownBackends[group]; !known && label == "none" {
				continue // a module without backends: the modules chart shows it
			}
		}
		if isFolded[v] {
			foldedCount++
			other = append(other, v)
			continue
		}
		add(group, label, v)
	}
	// Sort reported groups: known modules (alphabetically) keep their
	// place; a new group goes after them.
	for i := range out {
		out[i].Values = byKey[[2]string{out[i].Group, out[i].Label}].Values
	}
	if def.Grouped {
		// Groups most used first (the period's cluster-days over all their
		// values); groups nobody reported keep the table's order after them.
		used := map[string]int64{}
		for _, l := range out {
			for _, v := range l.Values {
				used[l.Group] += total[v]
			}
		}
		slices.SortStableFunc(out, func(x, y labelled) int {
			if c := cmp.Compare(used[y.Group], used[x.Group]); c != 0 {
				return c
			}
			return cmp.Compare(x.Group, y.Group)
		})
	}
	if len(other) > 0 {
		// A folded backend of a known module stays in its module's group:
		// it says "some clusters use another backend" without naming it.
		otherByGroup := map[string][]string{}
		var groups []string
		for _, v := range other {
			g := ""
			if def.Grouped {
				g, _ = splitGroup(v)
				if _, known := knownBackends[g]; !known {
					g = otherLabel
				}
			}
			if otherByGroup[g] == nil {
				groups = append(groups, g)
			}
			otherByGroup[g] = append(otherByGroup[g], v)
		}
		slices.Sort(groups)
		for _, g := range groups {
			out = insertOther(out, labelled{Group: g, Label: otherLabel, Values: otherByGroup[g]})
		}
	}
	return out, foldedCount
}

// insertOther puts an "other" entry after the last entry of its group, or
// at the end.
func insertOther(out []labelled, o labelled) []labelled {
	at := len(out)
	for i := len(out) - 1; i >= 0; i-- {
		if out[i].Group == o.Group {
			at = i + 1
			break
		}
	}
	return slices.Insert(out, at, o)
}

// splitGroup splits "module/backend" at the first slash.
func splitGroup(v string) (group, label string) {
	g, l, ok := strings.Cut(v, "/")
	if !ok {
		return v, ""
	}
	return g, l
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// shares computes a shares chart's points for series s.
func (b builder) shares(def chartDef, s store.Kind) ([]Point, int) {
	days := b.f.days()
	activeSum, n := b.activeOver(s, days)
	labels, foldedCount := b.labels(def, s)
	pts := make([]Point, 0, len(labels))
	for _, l := range labels {
		var clusters, sum int64
		for _, v := range l.Values {
			t := b.rows.totals[valueKey{s, def.Dimension, v}]
			clusters += t.ClusterDays
			sum = facts.AddAmounts(sum, t.Sum)
		}
		avg, share := periodValue(clusters, activeSum, n)
		pts = append(pts, Point{Series: string(s), Group: l.Group, Label: l.Label, Clusters: avg, Share: share, Sum: sum})
	}
	return pts, foldedCount
}

// overTime computes a daily, weekly or sums chart's points for series s.
func (b builder) overTime(def chartDef, s store.Kind) ([]Point, int) {
	labels, foldedCount := b.labels(def, s)
	var buckets [][]time.Time
	if def.Type == weekly {
		buckets = weeks(b.f.days())
	} else {
		for _, d := range b.f.days() {
			buckets = append(buckets, []time.Time{d})
		}
	}
	var pts []Point
	for _, days := range buckets {
		activeSum, n := b.activeOver(s, days)
		for _, l := range labels {
			var clusters, sum int64
			for _, v := range l.Values {
				byDay := b.rows.cells[valueKey{s, def.Dimension, v}]
				for _, d := range days {
					c := byDay[dayNum(d)]
					clusters += c.Clusters
					sum = facts.AddAmounts(sum, c.Sum)
				}
			}
			p := Point{Series: string(s), Group: l.Group, Label: l.Label, Day: dayKey(days[0]), Sum: sum}
			if def.Type == weekly {
				p.Clusters, p.Share = periodValue(clusters, activeSum, n)
			} else {
				p.Clusters = float64(clusters)
				_, p.Share = periodValue(clusters, activeSum, n)
			}
			pts = append(pts, p)
		}
	}
	return pts, foldedCount
}

// weeks groups days (consecutive, oldest first) into weeks starting on
// Monday; the first and last may be partial.
func weeks(days []time.Time) [][]time.Time {
	var out [][]time.Time
	for _, d := range days {
		if len(out) == 0 || d.Weekday() == time.Monday {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], d)
	}
	return out
}
