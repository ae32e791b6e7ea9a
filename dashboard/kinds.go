package dashboard

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/mim-metrics/mim-metrics/census"
	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

// Kind is what a chart's numbers are, and so how they are read, counted,
// drawn and explained: each kind once, here. A chart declaration names
// one: Shares, Weekly, Daily or Sums (the built-in charts have a few of
// their own: a module's backends, version adoption, supported lines,
// active clusters).
type Kind interface {
	// name is the API's "type".
	name() string
	// unit says in words what the numbers are.
	unit() string
	// partition: the values of a step add up to its clusters.
	partition() bool
	// rollups lists the dimensions the chart reads from the daily roll-ups.
	rollups(def ChartDef) []string
	// count adds the chart's own counts to in (its ISO weeks); weekly
	// says whether it counts any (the input's cache key tells them apart).
	count(in *pageInput, set store.RunSet, def ChartDef, k int64)
	weekly() bool
	// fill adds series s's points (and bases) to c.
	fill(b builder, c *Chart, s store.Kind)
	// lay draws the chart: legend, panels and table; query is the filter.
	lay(v *chartView, c Chart, query string)
	// display is a point's numbers in words, primary the number its mark
	// shows.
	display(p Point) string
	primary(p Point) float64
	// explain fills the chart's row of the methodology page.
	explain(m *methodChart, def ChartDef, k int64)
}

// The kinds a chart declaration names.
var (
	// Shares: per value, the distinct clusters that reported it at least
	// once in the period, and their share of the clusters that could
	// report it (or of every active cluster); "not reported" beside them.
	Shares Kind = sharesKind{}
	// Weekly: per value and ISO week, the week's distinct clusters and
	// their share of the week's active clusters.
	Weekly Kind = weeklyKind{}
	// Daily: per value and day (from the daily roll-ups), the day's
	// distinct clusters and their share of the day's active clusters.
	Daily Kind = dailyKind{}
	// Sums: per value and day, the sum of the amounts (stanza increments).
	Sums Kind = sumsKind{}

	backendShares  Kind = backendsKind{}
	adoptionWeekly Kind = adoptionKind{}
	supportWeekly  Kind = supportKind{}
	activeDaily    Kind = activeKind{}
)

// What a point's number is: a share, a sum, or clusters.
type (
	ofShares   struct{}
	ofSums     struct{}
	ofClusters struct{}
)

func (ofShares) primary(p Point) float64   { return p.Share }
func (ofSums) primary(p Point) float64     { return float64(p.Sum) }
func (ofClusters) primary(p Point) float64 { return float64(p.Clusters) }

func (ofShares) display(p Point) string {
	return shown(p, func() string { return fmt.Sprintf("%s (%s)", clustersText(p.Clusters), percent(p.Share)) })
}
func (ofSums) display(p Point) string {
	return shown(p, func() string { return strconv.FormatInt(p.Sum, 10) })
}
func (ofClusters) display(p Point) string {
	return shown(p, func() string { return clustersText(p.Clusters) })
}

// shown is a point's numbers in words: its hidden reason, or text, "so
// far" when the day or week is not over.
func shown(p Point, text func() string) string {
	if p.Hidden != "" {
		return p.Hidden
	}
	s := text()
	if p.Partial {
		s += " (so far)"
	}
	return s
}

// perPeriod: a kind that reads nothing but the period's distinct
// clusters.
type perPeriod struct{}

func (perPeriod) rollups(ChartDef) []string                       { return nil }
func (perPeriod) weekly() bool                                    { return false }
func (perPeriod) count(*pageInput, store.RunSet, ChartDef, int64) {}

// explainRule fills a methodology row's rule from the dimension's spec (a
// dimension of no spec: each value).
func explainRule(m *methodChart, def ChartDef) {
	if spec, ok := facts.SpecOf(def.Dimension); ok {
		m.Rule, m.NotReported = spec.Rule, spec.NotReported
		return
	}
	m.Rule = "each value any node reported (the dimension has no rule of its own yet)"
}

type sharesKind struct {
	perPeriod
	ofShares
}

func (sharesKind) name() string { return "shares" }
func (sharesKind) unit() string {
	return "distinct clusters that reported the value at least once in the period, and their share of the base"
}
func (sharesKind) partition() bool                         { return false }
func (sharesKind) fill(b builder, c *Chart, s store.Kind)  { b.shares(c, s) }
func (sharesKind) lay(v *chartView, c Chart, query string) { barsView(v, c, query, false) }
func (sharesKind) explain(m *methodChart, def ChartDef, _ int64) {
	m.Base = "the clusters that could report it (all active clusters when few could not)"
	if def.OfActive {
		m.Base = "the active clusters"
	}
	explainRule(m, def)
}

// backendsKind: per module, its backends as shares of the clusters that
// run it.
type backendsKind struct{ sharesKind }

func (backendsKind) partition() bool                         { return true }
func (backendsKind) fill(b builder, c *Chart, s store.Kind)  { b.backends(c, s) }
func (backendsKind) lay(v *chartView, c Chart, query string) { barsView(v, c, query, true) }
func (backendsKind) explain(m *methodChart, def ChartDef, _ int64) {
	m.Base = "the clusters that run the module"
	explainRule(m, def)
}

type weeklyKind struct{ ofShares }

func (weeklyKind) name() string { return "weekly" }
func (weeklyKind) unit() string {
	return "distinct clusters per ISO week (Monday to Sunday), and their share of the week's active clusters"
}
func (weeklyKind) partition() bool           { return true }
func (weeklyKind) rollups(ChartDef) []string { return nil }
func (weeklyKind) weekly() bool              { return true }
func (weeklyKind) count(in *pageInput, set store.RunSet, def ChartDef, _ int64) {
	in.weeks[def.ID] = census.Weekly(set, in.f.From, in.f.To, in.f.Version, def.Dimension)
}
func (weeklyKind) fill(b builder, c *Chart, s store.Kind) {
	b.steps(c, s, weekSteps(b.in, b.in.weeks[c.ID], s, c.def.Dimension))
}
func (weeklyKind) lay(v *chartView, c Chart, _ string) {
	linesView(v, c, timeAxis{share: true, weekly: true})
}
func (weeklyKind) explain(m *methodChart, def ChartDef, _ int64) {
	m.Base = "the week's active clusters"
	explainRule(m, def)
}

// adoptionKind: version adoption, the release lines and their versions.
type adoptionKind struct{ weeklyKind }

func (adoptionKind) count(in *pageInput, set store.RunSet, def ChartDef, _ int64) {
	in.weeks[def.ID] = census.Weekly(withReleaseLines(set), in.f.From, in.f.To, in.f.Version, facts.Version)
}
func (adoptionKind) fill(b builder, c *Chart, s store.Kind) { b.adoption(c, s, b.in.weeks[c.ID]) }
func (adoptionKind) lay(v *chartView, c Chart, _ string) {
	v.Legend, v.Panels, v.Table = adoptionView(c)
	v.Collapse = len(v.Table.Rows) > 16
}

// supportKind: the clusters on a supported line and on an older one.
type supportKind struct{ weeklyKind }

func (supportKind) count(in *pageInput, set store.RunSet, def ChartDef, k int64) {
	in.countSupport(set, def.ID, k)
}
func (supportKind) fill(b builder, c *Chart, s store.Kind) {
	c.Unit = supportUnit(b.in.supported, b.k)
	b.steps(c, s, weekSteps(b.in, b.in.weeks[c.ID], s, c.def.Dimension))
}
func (supportKind) explain(m *methodChart, def ChartDef, k int64) {
	m.Base = "the week's active clusters"
	m.Unit = supportUnit(nil, k)
	m.Unit = strings.TrimSuffix(m.Unit, " (none in this period)") + " (the lines are named on the chart)"
	m.Rule = "under the support of each version it ran in the week: a cluster that upgraded during the week counts under both"
}

type dailyKind struct{ ofShares }

func (dailyKind) name() string { return "daily" }
func (dailyKind) unit() string {
	return "distinct clusters per day, and their share of the day's active clusters"
}
func (dailyKind) partition() bool                                 { return true }
func (dailyKind) rollups(def ChartDef) []string                   { return []string{def.Dimension} }
func (dailyKind) weekly() bool                                    { return false }
func (dailyKind) count(*pageInput, store.RunSet, ChartDef, int64) {}
func (dailyKind) fill(b builder, c *Chart, s store.Kind) {
	b.steps(c, s, daySteps(b.in, s, c.def.Dimension))
}
func (dailyKind) lay(v *chartView, c Chart, _ string) { linesView(v, c, timeAxis{share: true}) }
func (dailyKind) explain(m *methodChart, def ChartDef, _ int64) {
	m.Base = "the day's active clusters"
	explainRule(m, def)
}

// activeKind: the active clusters per day, new and returning.
type activeKind struct{ ofClusters }

func (activeKind) name() string                                    { return "daily" }
func (activeKind) unit() string                                    { return "distinct clusters per day" }
func (activeKind) partition() bool                                 { return true }
func (activeKind) rollups(ChartDef) []string                       { return nil } // always read
func (activeKind) weekly() bool                                    { return false }
func (activeKind) count(*pageInput, store.RunSet, ChartDef, int64) {}
func (activeKind) fill(b builder, c *Chart, s store.Kind)          { b.activeDaily(c, s) }
func (activeKind) lay(v *chartView, c Chart, _ string)             { activeView(v, c) }
func (activeKind) explain(*methodChart, ChartDef, int64)           {}

type sumsKind struct{ ofSums }

func (sumsKind) name() string { return "sums" }
func (sumsKind) unit() string {
	return "stanzas per day: the sum of the increments the clusters reported that day"
}
func (sumsKind) partition() bool                                 { return false }
func (sumsKind) rollups(def ChartDef) []string                   { return []string{def.Dimension} }
func (sumsKind) weekly() bool                                    { return false }
func (sumsKind) count(*pageInput, store.RunSet, ChartDef, int64) {}
func (sumsKind) fill(b builder, c *Chart, s store.Kind)          { b.sums(c, s) }
func (sumsKind) lay(v *chartView, c Chart, _ string)             { linesView(v, c, timeAxis{sums: true}) }
func (sumsKind) explain(*methodChart, ChartDef, int64)           {}
