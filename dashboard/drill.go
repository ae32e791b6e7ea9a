package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/mim-metrics/mim-metrics/census"
	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

// A drill-down page is about one value of one dimension: a module
// (/modules/mod_vcard, module.go) or a feature (/features/transport/tcp,
// feature.go). Both show, beside their own charts, the versions that run
// the value and the clusters that enabled or dropped it in the period, as
// shares of the clusters that run it. In public, only a value known before
// any report, or run by at least K clusters in the period, has a page (a
// rare custom value is never named), and every table goes through the
// disclosure rule.

// subject is what a drill-down page is about.
type subject struct {
	// Dimension is facts.Module or a feature's dimension; Value its value.
	Dimension, Value string
	// Noun names the dimension in a sentence: "module", "transport".
	Noun string
	// API is the query parameters that name the subject in an API link.
	API url.Values
	// Known: the value is known before any report.
	Known bool
	// Charts are the page's charts, in order.
	Charts []ChartDef
}

// Labels of the enabled-and-dropped charts.
const (
	enabledLabel = "enabled"
	droppedLabel = "dropped"
)

// drillInput is what a drill-down page's charts are computed from.
type drillInput struct {
	builder
	subject
	set   store.RunSet
	weeks []census.Week
}

// hasPage says whether the public view may name the subject: known before
// any report, or run by at least k clusters of a series.
func (m *drillInput) hasPage() bool {
	if !m.hide || m.Known {
		return true
	}
	for _, c := range m.in.counts {
		if int64(c.Value(m.Dimension, m.Value)) >= m.k {
			return true
		}
	}
	return false
}

// loadDrill reads a drill-down page's input for filter f; weekly lists
// the dimensions counted per ISO week.
func (d *dashboard) loadDrill(ctx context.Context, f filter, sub subject, admin bool, weekly ...string) (*drillInput, error) {
	l, err := d.load(ctx, f)
	if err != nil {
		return nil, err
	}
	set, err := d.st.Runs(ctx, f.From, f.To)
	if err != nil {
		return nil, err
	}
	return newDrillInput(builder{in: l.in, hide: !admin, k: d.min}, set, sub, weekly...), nil
}

func newDrillInput(b builder, set store.RunSet, sub subject, weekly ...string) *drillInput {
	f := b.in.f
	return &drillInput{builder: b, subject: sub, set: set,
		weeks: census.Weekly(set, f.From, f.To, f.Version, weekly...)}
}

// users is the series' distinct clusters that run the value in the period.
func (m *drillInput) users(s store.Kind) int64 {
	return int64(m.in.counts[s].Value(m.Dimension, m.Value))
}

func (m *drillInput) usersBase(s store.Kind) Base {
	b := Base{Series: string(s), Of: "clusters that run " + m.Value, Clusters: m.users(s)}
	if m.hide && b.Clusters > 0 && b.Clusters < m.k {
		b.Clusters, b.Hidden = 0, m.fewer()
	}
	return b
}

// clusterRuns calls fn with each cluster of kind s and its runs that
// overlap the period and count for the filter's version, oldest first.
func (m *drillInput) clusterRuns(s store.Kind, fn func(runs []store.Run)) {
	f := m.in.f
	var picked []store.Run
	flush := func() {
		if len(picked) > 0 {
			slices.SortFunc(picked, func(a, b store.Run) int { return a.First.Compare(b.First) })
			fn(picked)
		}
		picked = picked[:0]
	}
	for i, r := range m.set.Runs {
		if i > 0 && (r.Property != m.set.Runs[i-1].Property || r.ClientID != m.set.Runs[i-1].ClientID) {
			flush()
		}
		if r.Kind != s || r.Last.Before(f.From) || r.First.After(f.To) {
			continue
		}
		if f.Version != facts.AllVersions && !slices.Contains(factValues(m.set.Profiles[r.Profile], facts.Version), f.Version) {
			continue
		}
		picked = append(picked, r)
	}
	flush()
}

func factValues(fs []facts.Fact, dim string) []string {
	var out []string
	for _, f := range fs {
		if f.Dimension == dim {
			out = append(out, f.Value)
		}
	}
	return out
}

// runs says whether a profile has the subject's value.
func (m *drillInput) runs(p int64) bool {
	return slices.Contains(factValues(m.set.Profiles[p], m.Dimension), m.Value)
}

// versions: the clusters that ran the value on each version.
func (m *drillInput) versions(c *Chart, s store.Kind) {
	byVersion := map[string]int{}
	m.clusterRuns(s, func(runs []store.Run) {
		seen := map[string]bool{}
		for _, r := range runs {
			if !m.runs(r.Profile) {
				continue
			}
			for _, v := range factValues(m.set.Profiles[r.Profile], facts.Version) {
				if !seen[v] {
					seen[v] = true
					byVersion[v]++
				}
			}
		}
	})
	cells := orderValues(nil, byVersion)
	slices.SortStableFunc(cells, func(a, b cell) int { return newestFirst(a.Label, b.Label) })
	cells, other := m.foldUnknown(cells)
	m.sharesOfUsers(c, s, cells, other, true)
}

// changes: the clusters that enabled or dropped the value in the period.
func (m *drillInput) changes(c *Chart, s store.Kind) {
	var enabled, dropped int64
	m.clusterRuns(s, func(runs []store.Run) {
		had, without, en, dr := false, false, false, false
		for _, r := range runs {
			if m.runs(r.Profile) {
				en = en || without
				had = true
			} else {
				dr = dr || had
				without = true
			}
		}
		if en {
			enabled++
		}
		if dr {
			dropped++
		}
	})
	m.sharesOfUsers(c, s, []cell{{Label: enabledLabel, N: enabled, Known: true}, {Label: droppedLabel, N: dropped, Known: true}}, 0, false)
}

// sharesOfUsers adds cells as shares of the value's users, through the
// disclosure rule.
func (m *drillInput) sharesOfUsers(c *Chart, s store.Kind, cells []cell, other int64, partition bool) {
	users := m.users(s)
	r := m.protect(tableOf(cells, other, users, partition))
	c.Bases = append(c.Bases, m.usersBase(s))
	for i, cl := range cells {
		c.Points = append(c.Points, m.sharePoint(s, "", cl.Label, cl.N, users, r.Cells[i]))
	}
	if other > 0 {
		c.Points = append(c.Points, m.sharePoint(s, "", otherLabel, other, users, r.Cells[len(cells)]))
	}
}

// drillSource is how a kind of drill-down page reads its input (its
// charts' declarations say how each is filled).
type drillSource interface {
	load(ctx context.Context, d *dashboard, f filter, sub subject, admin bool) (*drillInput, error)
}

// build computes one of a drill-down page's charts.
func (m *drillInput) build(def ChartDef) Chart {
	c := Chart{ID: def.ID, Title: def.Title, Type: def.Kind.name(), Unit: def.unit(), def: def}
	for _, s := range m.in.f.series() {
		c.Series = append(c.Series, string(s))
		def.drill(m, &c, s)
	}
	return c
}

// drillPage answers a drill-down page.
func (d *dashboard) drillPage(w http.ResponseWriter, r *http.Request, sub subject, src drillSource) {
	f, admin, ok := d.pageFilter(w, r)
	if !ok {
		return
	}
	ctx, cancel := d.ctx(r)
	defer cancel()
	m, err := src.load(ctx, d, f, sub, admin)
	if err != nil {
		d.unavailable(w, r, err)
		return
	}
	if !m.hasPage() {
		d.fail(w, r, http.StatusNotFound, "No "+sub.Noun+" of that name is run by enough clusters to be shown publicly.")
		return
	}
	title := strings.ToUpper(sub.Noun[:1]) + sub.Noun[1:] + " " + sub.Value
	data := pageData{base: d.base(r, title, f, nil), To: dayKey(f.To)}
	data.Status = d.statusLine(m.in, admin)
	data.NoReports = m.in.empty()
	if !m.in.empty() {
		data.From = dayKey(m.in.first)
		for _, s := range f.series() {
			b := m.usersBase(s)
			data.Active = append(data.Active, activeSummary{Series: string(s), Clusters: b.Clusters, Hidden: b.Hidden})
		}
		data.UsersOf = "the " + sub.Noun
		query := f.values().Encode()
		for _, def := range sub.Charts {
			v := newChartView(m.build(def), query)
			v.APIJSON, v.APICSV, v.APISVG = withSubject(v.APIJSON, sub), withSubject(v.APICSV, sub), withSubject(v.APISVG, sub)
			data.Charts = append(data.Charts, v)
		}
	}
	d.render(w, r, http.StatusOK, "page", data)
}

// withSubject adds the subject's parameters to an API link.
func withSubject(link string, sub subject) string {
	sep := "?"
	if strings.Contains(link, "?") {
		sep = "&"
	}
	return link + sep + sub.API.Encode()
}

// drillAPIChart answers a drill-down chart of the API: the chart, or false
// when the public view does not name the subject.
func (d *dashboard) drillAPIChart(ctx context.Context, f filter, def ChartDef, sub subject, src drillSource, admin bool) (Chart, *pageInput, bool, error) {
	m, err := src.load(ctx, d, f, sub, admin)
	if err != nil {
		return Chart{}, nil, false, err
	}
	if !m.hasPage() {
		return Chart{}, nil, false, nil
	}
	return m.build(def), m.in, true, nil
}
