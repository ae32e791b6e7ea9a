package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"slices"

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

var moduleCharts = []ChartDef{
	{ID: "module-backends", Title: "Backends week by week", Dimension: facts.ModuleBackend, Kind: Weekly, drill: (*drillInput).backendWeeks,
		Unit:  "distinct clusters per ISO week (Monday to Sunday), and their share of the week's clusters that run the module",
		About: "Per ISO week, the clusters that reported each backend of the module, as a share of the week's clusters that run it; a cluster with two backends counts under both."},
	{ID: "module-backend-shares", Title: "Backends in the period", Dimension: facts.ModuleBackend, Kind: backendShares, drill: (*drillInput).moduleBackends,
		About: "The clusters that reported each backend at least once in the period, as a share of the clusters that run the module."},
	{ID: "module-versions", Title: "Versions that run it", Dimension: facts.Version, Kind: Shares, drill: (*drillInput).versions,
		About: "The clusters that ran the module on each server version in the period, as a share of the clusters that run it; a cluster upgraded during the period counts under both versions."},
	{ID: "module-changes", Title: "Enabled and dropped in the period", Dimension: facts.Module, Kind: Shares, drill: (*drillInput).changes,
		About: "Clusters that reported without the module, then with it (enabled), or with it, then without it (dropped), within the period; as a share of the clusters that run it."},
}

func moduleChartByID(id string) (ChartDef, bool) { return findChart(moduleCharts, id) }

// linkModuleOfGroup leads a backend's row to its module's page.
func linkModuleOfGroup(rk rowKey, query string) string { return moduleURL(rk.Group, query) }

// linkModule leads a module's row to its page.
func linkModule(rk rowKey, query string) string {
	if !named(rk.Label) {
		return ""
	}
	return moduleURL(rk.Label, query)
}

// named: a row of a value, not "other" or "not reported".
func named(label string) bool { return label != otherLabel && label != notReportedLabel }

// moduleURL is a module's page, with the filter.
func moduleURL(module, query string) string {
	u := "/modules/" + url.PathEscape(module)
	if query != "" {
		u += "?" + query
	}
	return u
}

// moduleSubject is a module's page.
func moduleSubject(module string) subject {
	_, known := knownBackends[module]
	return subject{Dimension: facts.Module, Value: module, Noun: "module",
		API: url.Values{"module": {module}}, Known: known, Charts: moduleCharts}
}

// moduleSource reads and builds a module page's charts.
type moduleSource struct{}

func (moduleSource) load(ctx context.Context, d *dashboard, f filter, sub subject, admin bool) (*drillInput, error) {
	return d.loadDrill(ctx, f, sub, admin, facts.Module, facts.ModuleBackend)
}

// moduleBackends: the module's backends in the period, as the backends
// chart counts them.
func (m *drillInput) moduleBackends(c *Chart, s store.Kind) {
	all := Chart{def: c.def}
	m.backends(&all, s)
	for _, p := range all.Points {
		if p.Group == m.Value {
			c.Points = append(c.Points, p)
		}
	}
	for _, b := range all.Bases {
		if b.Group == m.Value {
			c.Bases = append(c.Bases, b)
		}
	}
	if !slices.ContainsFunc(all.Bases, func(b Base) bool { return b.Group == m.Value }) {
		c.Bases = append(c.Bases, m.usersBase(s))
	}
}

// backendCells lists the module's backends with their clusters: the known
// ones first, then the others, most clusters first.
func (m *drillInput) backendCells(values map[string]int) []cell {
	var cells []cell
	for _, be := range knownBackends[m.Value] {
		cells = append(cells, cell{Group: m.Value, Label: be, N: int64(values[m.Value+"/"+be]), Known: true})
	}
	var others []cell
	for v, n := range values {
		g, be := splitGroup(v)
		if g == m.Value && !slices.Contains(knownBackends[m.Value], be) {
			others = append(others, cell{Group: m.Value, Label: be, N: int64(n)})
		}
	}
	slices.SortFunc(others, byClustersThenLabel)
	return append(cells, others...)
}

// backendWeeks: per ISO week, the module's backends as shares of the
// week's clusters that run it.
func (m *drillInput) backendWeeks(c *Chart, s store.Kind) {
	labels := m.backendLabels(s)
	for _, w := range m.weeks {
		if w.To.Before(m.in.first) {
			continue
		}
		m.backendWeek(c, s, w, labels)
	}
}

// backendLabels lists the backends drawn: those of the period, known
// first; in public a backend of no known name only if some week has k
// clusters of it (else it is in "other" every week). None reported: the
// known ones.
func (m *drillInput) backendLabels(s store.Kind) []cell {
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
					labels = append(labels, cell{Group: m.Value, Label: cl.Label, Known: cl.Known})
				}
			}
		}
	}
	if len(labels) == 0 {
		for _, be := range knownBackends[m.Value] {
			labels = append(labels, cell{Group: m.Value, Label: be, Known: true})
		}
	}
	return labels
}

// backendWeek adds one week's points: each label's clusters and an
// "other" of the rest, of the week's clusters that run the module.
func (m *drillInput) backendWeek(c *Chart, s store.Kind, w census.Week, labels []cell) {
	var users int64
	values := map[string]int{}
	if counts := w.Counts[s]; counts != nil {
		users, values = int64(counts.Value(facts.Module, m.Value)), counts.Values[facts.ModuleBackend]
	}
	week := m.backendCells(values)
	var named []cell
	var other int64
	for _, l := range labels {
		n := int64(0)
		if i := slices.IndexFunc(week, func(x cell) bool { return x.Label == l.Label }); i >= 0 {
			n = week[i].N
		}
		named = append(named, cell{Group: m.Value, Label: l.Label, N: n, Known: l.Known})
	}
	for _, x := range week {
		if !slices.ContainsFunc(labels, func(l cell) bool { return l.Label == x.Label }) {
			other += x.N
		}
	}
	r := m.protect(tableOf(named, other, users, true))
	partial := !w.Monday.AddDate(0, 0, 6).Before(m.in.today)
	add := func(label string, n int64, v disclosure.Verdict) {
		if r.TotalHidden {
			v = disclosure.Withheld
		}
		p := m.sharePoint(s, m.Value, label, n, users, v)
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

// modulePage answers /modules/{name}.
func (d *dashboard) modulePage(w http.ResponseWriter, r *http.Request) {
	module := r.PathValue("name")
	if module == "" || len(module) > 200 {
		d.fail(w, r, http.StatusBadRequest, "Say which module: /modules/mod_vcard.")
		return
	}
	d.drillPage(w, r, moduleSubject(module), moduleSource{})
}
