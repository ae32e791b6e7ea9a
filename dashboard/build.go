package dashboard

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mim-metrics/mim-metrics/census"
	"github.com/mim-metrics/mim-metrics/disclosure"
	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

// otherLabel stands, in the public view, for the rare values of no known
// name; it is never counted.
const otherLabel = "other"

// notReportedLabel is the part of a chart's clusters whose versions could
// not report its dimension.
const notReportedLabel = "not reported"

// Point is one number of a chart, as the API gives it and the page draws it.
type Point struct {
	// Series is the property kind: production or ci.
	Series string `json:"series"`
	// Group is the module of a backend (backends chart only).
	Group string `json:"group,omitempty"`
	// Label is the dimension value, "other" or "not reported".
	Label string `json:"label"`
	// Day is the day (daily, sums) or the ISO week's Monday (weekly).
	Day string `json:"day,omitempty"`
	// Clusters is the distinct clusters: of the period (shares), the day
	// (daily, sums: those that reported the sum) or the week (weekly).
	Clusters int64 `json:"clusters"`
	// Share is Clusters divided by the base (shares) or the week's active
	// clusters (weekly).
	Share float64 `json:"share"`
	// Sum is the sum of the amounts (stanza increments).
	Sum int64 `json:"sum,omitempty"`
	// Hidden says why the numbers are not given: in the public view "fewer
	// than K clusters" or "withheld" (so that a small number cannot be
	// worked out from the others); "not reported" when no cluster of the
	// series could report the value. Clusters, Share and Sum are then 0.
	Hidden string `json:"hidden,omitempty"`
	// Partial: the day or week is not over.
	Partial bool `json:"partial,omitempty"`
}

// Base is what one series' (and group's) shares are of.
type Base struct {
	Series string `json:"series"`
	Group  string `json:"group,omitempty"`
	// Of names the base: "active clusters", "clusters that run mod_vcard",
	// "clusters that could report it".
	Of string `json:"of"`
	// Clusters is the base's distinct clusters in the period.
	Clusters int64 `json:"clusters"`
	// Active is the series' distinct active clusters in the period.
	Active int64 `json:"active"`
	// NotReported is the active clusters whose versions could not report
	// the chart's dimension.
	NotReported int64 `json:"not_reported"`
	// Hidden and NotReportedHidden say why those are not given (public).
	Hidden            string `json:"hidden,omitempty"`
	NotReportedHidden string `json:"not_reported_hidden,omitempty"`
}

// Chart is one chart's data.
type Chart struct {
	ID     string   `json:"chart"`
	Title  string   `json:"title"`
	Type   string   `json:"type"`
	Unit   string   `json:"unit"`
	Series []string `json:"series"`
	// Bases says what each series' shares are of (shares charts).
	Bases  []Base  `json:"bases,omitempty"`
	Points []Point `json:"points"`
	def    ChartDef
}

// dayKey is a day as points and tables write it.
func dayKey(t time.Time) string { return t.Format(time.DateOnly) }

// pageInput is what a page's charts are computed from, read once.
type pageInput struct {
	f filter
	// counts: each kind's distinct clusters of the period.
	counts map[store.Kind]*census.Counts
	// weeks: per weekly chart (by id), each ISO week's distinct clusters.
	weeks map[string][]census.Week
	// supported: the supported lines of the period (support.go).
	supported []string
	// daily: per kind, dimension, value and day, the day's roll-up (active
	// clusters, stanza sums).
	daily map[valueKey]map[string]store.RollupRow
	// first is the first day of the period with a report; zero: none.
	first time.Time
	// last is the last day of the period with a report.
	last time.Time
	// today is the current (partial) day.
	today time.Time
}

type valueKey struct {
	Kind      store.Kind
	Dimension string
	Value     string
}

// empty says whether no cluster was active in the period.
func (in *pageInput) empty() bool { return in.first.IsZero() }

// days lists the period's days from its first report on.
func (in *pageInput) days() []time.Time {
	var out []time.Time
	for _, d := range in.f.days() {
		if !d.Before(in.first) {
			out = append(out, d)
		}
	}
	return out
}

// builder builds charts from a page's input, for the public view (hide:
// the disclosure rule with threshold k) or the admin's.
type builder struct {
	in   *pageInput
	hide bool
	k    int64
}

// fewer is the public label of a rare count.
func (b builder) fewer() string { return "fewer than " + strconv.FormatInt(b.k, 10) + " clusters" }

const withheldLabel = "withheld"

// hiddenText is what the public view shows of a count under a verdict.
func (b builder) hiddenText(v disclosure.Verdict) string {
	switch v {
	case disclosure.Rare:
		return b.fewer()
	case disclosure.Withheld:
		return withheldLabel
	}
	return ""
}

// protect applies the disclosure rule to a table (nothing is hidden in the
// admin view).
func (b builder) protect(t disclosure.Table) disclosure.Result {
	if !b.hide {
		return disclosure.Result{Cells: make([]disclosure.Verdict, len(t.Cells))}
	}
	return disclosure.Protect(t, b.k)
}

// build computes one chart.
func (b builder) build(def ChartDef) Chart {
	c := Chart{ID: def.ID, Title: def.Title, Type: def.Kind.name(), Unit: def.unit(), def: def}
	for _, s := range b.in.f.series() {
		c.Series = append(c.Series, string(s))
		def.Kind.fill(b, &c, s)
	}
	return c
}

// cell is one value of a table being built.
type cell struct {
	Group, Label string
	N            int64
	Known        bool
}

// orderValues lists a dimension's values for one series: the known ones in
// their order (present when nobody reported them), then the others, most
// clusters first.
func orderValues(known []string, reported map[string]int) []cell {
	var out []cell
	for _, v := range known {
		out = append(out, cell{Label: v, N: int64(reported[v]), Known: true})
	}
	var others []cell
	for v, n := range reported {
		if !slices.Contains(known, v) {
			others = append(others, cell{Label: v, N: int64(n)})
		}
	}
	slices.SortFunc(others, byClustersThenLabel)
	return append(out, others...)
}

// byClustersThenLabel orders cells most clusters first, then by label.
func byClustersThenLabel(a, b cell) int {
	if c := cmp.Compare(b.N, a.N); c != 0 {
		return c
	}
	return strings.Compare(a.Label, b.Label)
}

// tableOf is the disclosure table of cells (and an "other" of other
// clusters) out of total.
func tableOf(cells []cell, other, total int64, partition bool) disclosure.Table {
	t := disclosure.Table{Total: total, Partition: partition}
	for _, cl := range cells {
		t.Cells = append(t.Cells, disclosure.Cell{N: cl.N})
	}
	if other > 0 {
		t.Cells = append(t.Cells, disclosure.Cell{N: other, Other: true})
	}
	return t
}

// foldUnknown merges, in the public view, the rare values of no known name
// into one "other" cell.
func (b builder) foldUnknown(cells []cell) (out []cell, other int64) {
	if !b.hide {
		return cells, 0
	}
	for _, c := range cells {
		if !c.Known && c.N > 0 && c.N < b.k {
			other += c.N
			continue
		}
		out = append(out, c)
	}
	return out, other
}

// sharesOf fills in a share, or rounds it.
func shareOf(n, base int64) float64 {
	if base <= 0 {
		return 0
	}
	return round(float64(n)/float64(base), 4)
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// shares computes a (non-grouped) shares chart's points and base for s.
func (b builder) shares(c *Chart, s store.Kind) {
	def := c.def
	counts := b.in.counts[s]
	active := int64(0)
	var covered int64
	var reported map[string]int
	if counts != nil {
		active, covered, reported = int64(counts.Active), int64(counts.Covered[def.Dimension]), counts.Values[def.Dimension]
	}
	notReported := active - covered
	cells, other := b.foldUnknown(orderValues(def.known(), reported))
	base := Base{Series: string(s), Of: "clusters that could report it", Clusters: covered, Active: active, NotReported: notReported}
	if def.OfActive {
		base.Of = "active clusters"
	}

	table := tableOf(cells, other, active, def.partition())
	var verdicts []disclosure.Verdict
	var nrVerdict disclosure.Verdict
	if def.partition() {
		// The values and "not reported" add up to the active clusters.
		table.Cells = append(table.Cells, disclosure.Cell{N: notReported})
		r := b.protect(table)
		verdicts, nrVerdict = r.Cells[:len(r.Cells)-1], r.Cells[len(r.Cells)-1]
		if r.TotalHidden {
			base.Hidden = b.fewer()
		}
	} else {
		// "Not reported" and the clusters that could report it add up to
		// the active clusters; the values are shares of the latter.
		pair := b.protect(disclosure.Table{Cells: []disclosure.Cell{{N: covered}, {N: notReported}}, Total: active, Partition: true})
		nrVerdict = pair.Cells[1]
		if pair.TotalHidden {
			base.Hidden = b.fewer()
		}
		table.Total = covered
		if pair.Cells[0] != disclosure.Shown {
			table.Total = active
		}
		verdicts = b.protect(table).Cells
		if b.hide && table.Total > 0 && table.Total < b.k {
			base.Hidden = b.fewer()
		}
	}
	if nrVerdict != disclosure.Shown {
		// The clusters that could report it would tell how many could not:
		// the shares are of every active cluster.
		base.Clusters, base.Of = active, "active clusters"
		base.NotReported, base.NotReportedHidden = 0, b.hiddenText(nrVerdict)
	}
	if base.Hidden != "" {
		base.Clusters, base.Active = 0, 0
	}
	c.Bases = append(c.Bases, base)
	denominator := covered
	if base.Of == "active clusters" {
		denominator = active
	}
	for i, cl := range cells {
		p := b.sharePoint(s, "", cl.Label, cl.N, denominator, verdicts[i])
		if denominator == 0 && active > 0 && p.Hidden == "" {
			p.Hidden = notReportedLabel // no cluster could report it: no share, not 0 %
		}
		c.Points = append(c.Points, p)
	}
	if other > 0 {
		c.Points = append(c.Points, b.sharePoint(s, "", otherLabel, other, denominator, verdicts[len(cells)]))
	}
}

func (b builder) sharePoint(s store.Kind, group, label string, n, base int64, v disclosure.Verdict) Point {
	p := Point{Series: string(s), Group: group, Label: label}
	if v != disclosure.Shown {
		p.Hidden = b.hiddenText(v)
		return p
	}
	p.Clusters, p.Share = n, shareOf(n, base)
	return p
}

// backends computes the backends chart's points for s: per module, its
// backends as shares of the clusters that run it.
func (b builder) backends(c *Chart, s store.Kind) {
	counts := b.in.counts[s]
	var modules map[string]int
	byModule := map[string]map[string]int{}
	if counts != nil {
		modules = counts.Values[facts.Module]
		for v, n := range counts.Values[facts.ModuleBackend] {
			m, be := splitGroup(v)
			if byModule[m] == nil {
				byModule[m] = map[string]int{}
			}
			byModule[m][be] = n
		}
	}
	// Known modules, and those reported with a backend; most users first.
	var groups []string
	for m := range knownBackends {
		groups = append(groups, m)
	}
	for m, bes := range byModule {
		if _, known := knownBackends[m]; known {
			continue
		}
		if len(bes) == 1 && bes["none"] > 0 {
			continue // a module without backends: the modules chart shows it
		}
		groups = append(groups, m)
	}
	slices.SortFunc(groups, func(x, y string) int {
		if c := cmp.Compare(modules[y], modules[x]); c != 0 {
			return c
		}
		return strings.Compare(x, y)
	})
	for _, m := range groups {
		users := int64(modules[m])
		var cells []cell
		for _, be := range knownBackends[m] {
			cells = append(cells, cell{Group: m, Label: be, N: int64(byModule[m][be]), Known: true})
		}
		var others []cell
		for be, n := range byModule[m] {
			if !slices.Contains(knownBackends[m], be) {
				others = append(others, cell{Group: m, Label: be, N: int64(n)})
			}
		}
		slices.SortFunc(others, byClustersThenLabel)
		cells, other := b.foldUnknown(append(cells, others...))
		r := b.protect(tableOf(cells, other, users, true))
		base := Base{Series: string(s), Group: m, Of: "clusters that run " + m, Clusters: users}
		if r.TotalHidden {
			base.Clusters, base.Hidden = 0, b.fewer()
		}
		c.Bases = append(c.Bases, base)
		for i, cl := range cells {
			c.Points = append(c.Points, b.sharePoint(s, m, cl.Label, cl.N, users, r.Cells[i]))
		}
		if other > 0 {
			c.Points = append(c.Points, b.sharePoint(s, m, otherLabel, other, users, r.Cells[len(cells)]))
		}
	}
}

// step is one week or day of a time chart: its day (a week's Monday),
// whether it is over, its active clusters and each value's.
type step struct {
	day     string
	partial bool
	active  int64
	values  map[string]int
}

// weekSteps lists the weeks of series s from the first report on, with
// the values of dim.
func weekSteps(in *pageInput, weeks []census.Week, s store.Kind, dim string) []step {
	var out []step
	for _, w := range weeks {
		if w.To.Before(in.first) {
			continue // nothing is drawn before the first report
		}
		st := step{day: dayKey(w.Monday), partial: !w.Monday.AddDate(0, 0, 6).Before(in.today)}
		if counts := w.Counts[s]; counts != nil {
			st.active, st.values = int64(counts.Active), counts.Values[dim]
		}
		out = append(out, st)
	}
	return out
}

// daySteps lists the days of series s from the first report on, with the
// values of dim, from the daily roll-ups.
func daySteps(in *pageInput, s store.Kind, dim string) []step {
	byDay := map[string]map[string]int{}
	for k, rows := range in.daily {
		if k.Kind != s || k.Dimension != dim {
			continue
		}
		for day, row := range rows {
			if byDay[day] == nil {
				byDay[day] = map[string]int{}
			}
			byDay[day][k.Value] = int(row.Clusters)
		}
	}
	var out []step
	for _, d := range in.days() {
		day := dayKey(d)
		active := in.daily[valueKey{s, facts.Clusters, facts.ClustersNew}][day].Clusters +
			in.daily[valueKey{s, facts.Clusters, facts.ClustersReturning}][day].Clusters
		out = append(out, step{day: day, partial: d.Equal(in.today), active: active, values: byDay[day]})
	}
	return out
}

// steps adds a time chart's points for s: per step, each named value's
// clusters and an "other" of the rest, as shares of the step's active
// clusters, through the disclosure rule (a step's values are taken to add
// up to its clusters).
func (b builder) steps(c *Chart, s store.Kind, steps []step) {
	labels := b.namedLabels(c.def.known(), steps)
	for _, st := range steps {
		cells, other := b.stepCells(labels, st)
		r := b.protect(tableOf(cells, other, st.active, true))
		add := func(label string, n int64, v disclosure.Verdict) {
			p := b.sharePoint(s, "", label, n, st.active, v)
			p.Day, p.Partial = st.day, st.partial
			c.Points = append(c.Points, p)
		}
		for i, cl := range cells {
			add(cl.Label, cl.N, r.Cells[i])
		}
		if other > 0 {
			add(otherLabel, other, r.Cells[len(cells)])
		}
	}
}

// namedLabels lists a time chart's values: the known ones, then the
// others, most clusters (over the steps) first. In public a value of no
// known name is named only if some step has k clusters of it: else it is
// in "other" every step (a step's 0 would name it).
func (b builder) namedLabels(known []string, steps []step) []cell {
	sum, most := map[string]int{}, map[string]int{}
	for _, st := range steps {
		for v, n := range st.values {
			sum[v] += n
			most[v] = max(most[v], n)
		}
	}
	labels := orderValues(known, sum)
	if b.hide {
		labels = slices.DeleteFunc(labels, func(l cell) bool { return !l.Known && int64(most[l.Label]) < b.k })
	}
	return labels
}

// stepCells is a step's clusters of each label (the rare values of no
// known name folded in public), and of the other values.
func (b builder) stepCells(labels []cell, st step) ([]cell, int64) {
	cells := make([]cell, len(labels))
	named := make(map[string]bool, len(labels))
	for i, l := range labels {
		cells[i] = cell{Label: l.Label, N: int64(st.values[l.Label]), Known: l.Known}
		named[l.Label] = true
	}
	var unnamed int64
	for v, n := range st.values {
		if !named[v] {
			unnamed += int64(n)
		}
	}
	cells, other := b.foldUnknown(cells)
	return cells, other + unnamed
}

// activeDaily computes the active clusters per day for s: new and
// returning, which add up to the day's active clusters.
func (b builder) activeDaily(c *Chart, s store.Kind) {
	for _, d := range b.in.days() {
		day := dayKey(d)
		newN := b.in.daily[valueKey{s, facts.Clusters, facts.ClustersNew}][day].Clusters
		returning := b.in.daily[valueKey{s, facts.Clusters, facts.ClustersReturning}][day].Clusters
		r := b.protect(disclosure.Table{Cells: []disclosure.Cell{{N: newN}, {N: returning}}, Total: newN + returning, Partition: true})
		for i, part := range []struct {
			label string
			n     int64
		}{{facts.ClustersNew, newN}, {facts.ClustersReturning, returning}} {
			p := Point{Series: string(s), Label: part.label, Day: day, Partial: d.Equal(b.in.today)}
			if r.Cells[i] == disclosure.Shown {
				p.Clusters = part.n
			} else {
				p.Hidden = b.hiddenText(r.Cells[i])
			}
			c.Points = append(c.Points, p)
		}
	}
}

// sums computes the stanzas per day for s: a day's sum of a type is shown
// publicly only when at least k clusters reported it; a type of no known
// name only in the admin view.
func (b builder) sums(c *Chart, s store.Kind) {
	dim := c.def.Dimension
	reported := map[string]int{}
	for k, byDay := range b.in.daily {
		if k.Kind == s && k.Dimension == dim {
			for _, row := range byDay {
				reported[k.Value] += int(row.Clusters)
			}
		}
	}
	labels := orderValues(c.def.known(), reported)
	for _, d := range b.in.days() {
		day := dayKey(d)
		for _, l := range labels {
			if b.hide && !l.Known {
				continue
			}
			row := b.in.daily[valueKey{s, dim, l.Label}][day]
			p := Point{Series: string(s), Label: l.Label, Day: day, Partial: d.Equal(b.in.today)}
			if b.hide && row.Clusters > 0 && row.Clusters < b.k {
				p.Hidden = b.fewer()
			} else {
				p.Clusters, p.Sum = row.Clusters, row.Sum
			}
			c.Points = append(c.Points, p)
		}
	}
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
