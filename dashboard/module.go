package dashboard

import (
	"cmp"
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/mim-metrics/mim-metrics/census"
	"github.com/mim-metrics/mim-metrics/disclosure"
	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

// A page per module (/modules/mod_vcard): its backends week by week (as
// shares of the week's clusters that run it), its backends over the
// period, production and CI side by side, the versions that run it, and
// the clusters that enabled or dropped it during the period. The same
// numbers are at /api/v1/module-….json?module=mod_vcard. In public, only a
// module known before any report, or run by at least K clusters in the
// period, has a page (a rare custom module is never named), and every
// table goes through the disclosure rule.

var moduleCharts = []chartDef{
	{ID: "module-backends", Title: "Backends week by week", Dimension: facts.ModuleBackend, Type: weekly, Grouped: true,
		About: "Per ISO week, the clusters that reported each backend of the module, as a share of the week's clusters that run it; a cluster with two backends counts under both."},
	{ID: "module-backend-shares", Title: "Backends in the period", Dimension: facts.ModuleBackend, Type: shares, Grouped: true,
		About: "The clusters that reported each backend at least once in the period, as a share of the clusters that run the module."},
	{ID: "module-versions", Title: "Versions that run it", Dimension: facts.Version, Type: shares,
		About: "The clusters that ran the module on each server version in the period, as a share of the clusters that run it; a cluster upgraded during the period counts under both versions."},
	{ID: "module-changes", Title: "Enabled and dropped in the period", Dimension: facts.Module, Type: shares,
		About: "Clusters that reported without the module, then with it (enabled), or with it, then without it (dropped), within the period; as a share of the clusters that run it."},
}

// Labels of the module-changes chart.
const (
	enabledLabel = "enabled"
	droppedLabel = "dropped"
)

func moduleChartByID(id string) (chartDef, bool) {
	for _, c := range moduleCharts {
		if c.ID == id {
			return c, true
		}
	}
	return chartDef{}, false
}

// moduleURL is a module's page, with the filter.
func moduleURL(module, query string) string {
	u := "/modules/" + url.PathEscape(module)
	if query != "" {
		u += "?" + query
	}
	return u
}

// moduleHasPage says whether the public view may name the module: known
// before any report, or run by at least k clusters of a series.
func (b builder) moduleHasPage(module string) bool {
	if !b.hide {
		return true
	}
	if _, ok := knownBackends[module]; ok {
		return true
	}
	for _, c := range b.in.counts {
		if int64(c.Value(facts.Module, module)) >= b.k {
			return true
		}
	}
	return false
}

// moduleInput is what a module's charts are computed from.
type moduleInput struct {
	builder
	module string
	set    store.RunSet
	weeks  []census.Week
}

// loadModule reads a module page's input for filter f.
func (d *dashboard) loadModule(ctx context.Context, f filter, module string, admin bool) (*moduleInput, error) {
	def, _ := chartByID("backends")
	l, err := d.load(ctx, f, def)
	if err != nil {
		return nil, err
	}
	in := l.in
	set, err := d.st.Runs(ctx, f.From, f.To)
	if err != nil {
		return nil, err
	}
	m := &moduleInput{builder: builder{in: in, hide: !admin, k: d.min}, module: module, set: set}
	m.weeks = census.Weekly(set, f.From, f.To, f.Version, facts.Module, facts.ModuleBackend)
	return m, nil
}

// build computes one of the module's charts.
func (m *moduleInput) build(def chartDef) Chart {
	c := Chart{ID: def.ID, Title: def.Title, Type: string(def.Type), Unit: def.Type.unit(), def: def}
	if def.ID == "module-backends" {
		c.Unit = "distinct clusters per ISO week (Monday to Sunday), and their share of the week's clusters that run the module"
	}
	for _, s := range m.in.f.series() {
		c.Series = append(c.Series, string(s))
		switch def.ID {
		case "module-backends":
			m.backendWeeks(&c, s)
		case "module-backend-shares":
			var all Chart
			all.def = def
			m.backends(&all, s)
			for _, p := range all.Points {
				if p.Group == m.module {
					c.Points = append(c.Points, p)
				}
			}
			for _, b := range all.Bases {
				if b.Group == m.module {
					c.Bases = append(c.Bases, b)
				}
			}
			if !slices.ContainsFunc(all.Bases, func(b Base) bool { return b.Group == m.module }) {
				c.Bases = append(c.Bases, m.usersBase(s))
			}
		case "module-versions":
			m.versions(&c, s)
		case "module-changes":
			m.changes(&c, s)
		}
	}
	return c
}

// users is the series' distinct clusters that run the module in the period.
func (m *moduleInput) users(s store.Kind) int64 {
	return int64(m.in.counts[s].Value(facts.Module, m.module))
}

func (m *moduleInput) usersBase(s store.Kind) Base {
	b := Base{Series: string(s), Of: "clusters that run " + m.module, Clusters: m.users(s)}
	if m.hide && b.Clusters > 0 && b.Clusters < m.k {
		b.Clusters, b.Hidden = 0, m.fewer()
	}
	return b
}

// backendCells lists the module's backends with their clusters: the known
// ones first, then the others, most clusters first.
func (m *moduleInput) backendCells(values map[string]int) []cell {
	var cells []cell
	for _, be := range knownBackends[m.module] {
		cells = append(cells, cell{Group: m.module, Label: be, N: int64(values[m.module+"/"+be]), Known: true})
	}
	var others []cell
	for v, n := range values {
		g, be := splitGroup(v)
		if g == m.module && !slices.Contains(knownBackends[m.module], be) {
			others = append(others, cell{Group: m.module, Label: be, N: int64(n)})
		}
	}
	slices.SortFunc(others, func(a, b cell) int {
		if c := cmp.Compare(b.N, a.N); c != 0 {
			return c
		}
		return strings.Compare(a.Label, b.Label)
	})
	return append(cells, others...)
}

// backendWeeks: per ISO week, the module's backends as shares of the
// week's clusters that run it. A backend of no known name is named only
// if some week has k clusters of it (else it is in "other" every week).
func (m *moduleInput) backendWeeks(c *Chart, s store.Kind) {
	most := map[string]int64{}
	for _, w := range m.weeks {
		if counts := w.Counts[s]; counts != nil {
			for _, cl := range m.backendCells(counts.Values[facts.ModuleBackend]) {
				most[cl.Label] = max(most[cl.Label], cl.N)
			}
		}
	}
	var labels []cell
	for _, w := range m.weeks {
		if counts := w.Counts[s]; counts != nil {
			for _, cl := range m.backendCells(counts.Values[facts.ModuleBackend]) {
				if !slices.ContainsFunc(labels, func(l cell) bool { return l.Label == cl.Label }) && (cl.Known || !m.hide || most[cl.Label] >= m.k) {
					labels = append(labels, cell{Group: m.module, Label: cl.Label, Known: cl.Known})
				}
			}
		}
	}
	if len(labels) == 0 {
		for _, be := range knownBackends[m.module] {
			labels = append(labels, cell{Group: m.module, Label: be, Known: true})
		}
	}
	for _, w := range m.weeks {
		if w.To.Before(m.in.first) {
			continue
		}
		counts := w.Counts[s]
		var users int64
		values := map[string]int{}
		if counts != nil {
			users, values = int64(counts.Value(facts.Module, m.module)), counts.Values[facts.ModuleBackend]
		}
		week := m.backendCells(values)
		var named []cell
		var other int64
		for _, l := range labels {
			i := slices.IndexFunc(week, func(x cell) bool { return x.Label == l.Label })
			n := int64(0)
			if i >= 0 {
				n = week[i].N
			}
			named = append(named, cell{Group: m.module, Label: l.Label, N: n, Known: l.Known})
		}
		for _, x := range week {
			if !slices.ContainsFunc(labels, func(l cell) bool { return l.Label == x.Label }) {
				other += x.N
			}
		}
		table := disclosure.Table{Total: users, Partition: true}
		for _, cl := range named {
			table.Cells = append(table.Cells, disclosure.Cell{N: cl.N})
		}
		if other > 0 {
			table.Cells = append(table.Cells, disclosure.Cell{N: other, Other: true})
		}
		r := m.protect(table)
		partial := !w.Monday.AddDate(0, 0, 6).Before(m.in.today)
		add := func(label string, n int64, v disclosure.Verdict) {
			if r.TotalHidden {
				v = disclosure.Withheld
			}
			p := m.sharePoint(s, m.module, label, n, users, v)
			p.Day, p.Partial = dayKey(w.Monday), partial
			c.Points = append(c.Points, p)
		}
		for i, cl := range named {
			add(cl.Label, cl.N, r.Cells[i])
		}
		if other > 0 {
			add(otherLabel, other, r.Cells[len(named)])
		}
	}
}

// clusterRuns calls fn with each cluster of kind s and its runs that
// overlap the period and count for the filter's version, oldest first.
func (m *moduleInput) clusterRuns(s store.Kind, fn func(runs []store.Run)) {
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

func (m *moduleInput) runs(p int64) bool {
	return slices.Contains(factValues(m.set.Profiles[p], facts.Module), m.module)
}

// versions: the clusters that ran the module on each version.
func (m *moduleInput) versions(c *Chart, s store.Kind) {
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
	cells := orderValues(facts.Version, byVersion)
	slices.SortStableFunc(cells, func(a, b cell) int { return newestFirst(a.Label, b.Label) })
	cells, other := m.foldUnknown(cells)
	m.sharesOfUsers(c, s, cells, other, true)
}

// changes: the clusters that enabled or dropped the module in the period.
func (m *moduleInput) changes(c *Chart, s store.Kind) {
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

// sharesOfUsers adds cells as shares of the module's users, through the
// disclosure rule.
func (m *moduleInput) sharesOfUsers(c *Chart, s store.Kind, cells []cell, other int64, partition bool) {
	users := m.users(s)
	table := disclosure.Table{Total: users, Partition: partition}
	for _, cl := range cells {
		table.Cells = append(table.Cells, disclosure.Cell{N: cl.N})
	}
	if other > 0 {
		table.Cells = append(table.Cells, disclosure.Cell{N: other, Other: true})
	}
	r := m.protect(table)
	c.Bases = append(c.Bases, m.usersBase(s))
	for i, cl := range cells {
		c.Points = append(c.Points, m.sharePoint(s, "", cl.Label, cl.N, users, r.Cells[i]))
	}
	if other > 0 {
		c.Points = append(c.Points, m.sharePoint(s, "", otherLabel, other, users, r.Cells[len(cells)]))
	}
}

// modulePage answers /modules/{name}.
func (d *dashboard) modulePage(w http.ResponseWriter, r *http.Request) {
	module := r.PathValue("name")
	f, err := parseFilter(r.URL.Query(), d.now())
	if err != nil {
		d.fail(w, r, http.StatusBadRequest, "Bad filter: "+err.Error())
		return
	}
	admin := d.isAdmin(r)
	if !admin && f.Version != facts.AllVersions {
		d.fail(w, r, http.StatusNotFound, versionHidden)
		return
	}
	if module == "" || len(module) > 200 {
		d.fail(w, r, http.StatusBadRequest, "Say which module: /modules/mod_vcard.")
		return
	}
	ctx, cancel := d.ctx(r)
	defer cancel()
	m, err := d.loadModule(ctx, f, module, admin)
	if err != nil {
		d.unavailable(w, r, err)
		return
	}
	if !m.moduleHasPage(module) {
		d.fail(w, r, http.StatusNotFound, "No module of that name is run by enough clusters to be shown publicly.")
		return
	}
	data := pageData{base: d.base(r, "Module "+module, f, nil), To: dayKey(f.To)}
	data.Status = d.statusLine(m.in, admin)
	data.NoReports = m.in.empty()
	data.NoPeriodData = false
	if !m.in.empty() {
		data.From = dayKey(m.in.first)
		for _, s := range f.series() {
			b := m.usersBase(s)
			data.Active = append(data.Active, activeSummary{Series: string(s), Clusters: b.Clusters, Hidden: b.Hidden})
		}
		data.ModuleUsers = true
		query := f.values().Encode()
		for _, def := range moduleCharts {
			v := newChartView(m.build(def), query)
			v.APIJSON, v.APICSV, v.APISVG = moduleAPI(v.APIJSON, module), moduleAPI(v.APICSV, module), moduleAPI(v.APISVG, module)
			data.Charts = append(data.Charts, v)
		}
	}
	d.render(w, r, http.StatusOK, "page", data)
}

// moduleAPI adds the module to an API link.
func moduleAPI(link, module string) string {
	sep := "?"
	if strings.Contains(link, "?") {
		sep = "&"
	}
	return link + sep + "module=" + url.QueryEscape(module)
}

// moduleAPIChart answers /api/v1/module-….json?module=…: the chart, or
// false when the public view does not name the module.
func (d *dashboard) moduleAPIChart(ctx context.Context, f filter, def chartDef, module string, admin bool) (Chart, *pageInput, bool, error) {
	m, err := d.loadModule(ctx, f, module, admin)
	if err != nil {
		return Chart{}, nil, false, err
	}
	if !m.moduleHasPage(module) {
		return Chart{}, nil, false, nil
	}
	return m.build(def), m.in, true, nil
}
