package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"slices"

	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

// A page per feature value (/features/transport/mod_bosh): the share of
// the active clusters that run it week by week, production and CI side by
// side, the versions that run it, and the clusters that enabled or dropped
// it during the period; the same numbers at
// /api/v1/feature-….json?feature=transport&value=mod_bosh. A value has a
// public page when known before any report or run by at least K clusters.

// feature is one kind of feature: its name in URLs and its dimension.
type feature struct {
	Name, Dimension, Noun string
}

var (
	transportFeature = feature{Name: "transport", Dimension: facts.Transport, Noun: "transport"}
	httpAPIFeature   = feature{Name: "http-api", Dimension: facts.HTTPAPI, Noun: "HTTP API"}
	poolFeature      = feature{Name: "pool", Dimension: facts.Pool, Noun: "pool type"}
	tlsFeature       = feature{Name: "tls", Dimension: facts.TLS, Noun: "TLS mode"}
	features         = []feature{transportFeature, httpAPIFeature, poolFeature, tlsFeature}
)

func featureByName(name string) (feature, bool) {
	for _, f := range features {
		if f.Name == name {
			return f, true
		}
	}
	return feature{}, false
}

// link leads a chart's row of a value of the feature to the value's page.
func (f feature) link(rk rowKey, query string) string {
	if !named(rk.Label) {
		return ""
	}
	return featureURL(f, rk.Label, query)
}

var featureCharts = []ChartDef{
	{ID: "feature-weeks", Title: "Clusters week by week", Kind: Weekly, drill: (*drillInput).valueWeeks,
		About: "Per ISO week, the clusters that reported the value, as a share of the week's active clusters."},
	{ID: "feature-versions", Title: "Versions that run it", Dimension: facts.Version, Kind: Shares, drill: (*drillInput).versions,
		About: "The clusters that reported the value on each server version in the period, as a share of the clusters that run it; a cluster upgraded during the period counts under both versions."},
	{ID: "feature-changes", Title: "Enabled and dropped in the period", Kind: Shares, drill: (*drillInput).changes,
		About: "Clusters that reported without the value, then with it (enabled), or with it, then without it (dropped), within the period; as a share of the clusters that run it."},
}

func featureChartByID(id string) (ChartDef, bool) { return findChart(featureCharts, id) }

// featureURL is a feature value's page, with the filter. A slash of the
// value (TLS modes: starttls/fast_tls) is escaped within the last segment.
func featureURL(f feature, value, query string) string {
	u := "/features/" + f.Name + "/" + url.PathEscape(value)
	if query != "" {
		u += "?" + query
	}
	return u
}

// featureSubject is a feature value's page.
func featureSubject(f feature, value string) subject {
	charts := make([]ChartDef, len(featureCharts))
	for i, def := range featureCharts {
		if def.Dimension == "" {
			def.Dimension = f.Dimension
		}
		charts[i] = def
	}
	known := slices.Contains(knownOfDimension(builtinCharts, f.Dimension), value)
	return subject{Dimension: f.Dimension, Value: value, Noun: f.Noun,
		API: url.Values{"feature": {f.Name}, "value": {value}}, Known: known, Charts: charts}
}

// featureSource reads and builds a feature page's charts.
type featureSource struct{}

func (featureSource) load(ctx context.Context, d *dashboard, f filter, sub subject, admin bool) (*drillInput, error) {
	return d.loadDrill(ctx, f, sub, admin, sub.Dimension)
}

// valueWeeks: per ISO week, the clusters that reported the value, as a
// share of the week's active clusters. With the clusters without it they
// add up to the week's active clusters: the disclosure rule sees both.
func (m *drillInput) valueWeeks(c *Chart, s store.Kind) {
	for _, w := range m.weeks {
		if w.To.Before(m.in.first) {
			continue // nothing is drawn before the first report
		}
		var active, n int64
		if counts := w.Counts[s]; counts != nil {
			active, n = int64(counts.Active), int64(counts.Value(m.Dimension, m.Value))
		}
		r := m.protect(tableOf([]cell{{N: n}, {N: active - n}}, 0, active, true))
		p := m.sharePoint(s, "", m.Value, n, active, r.Cells[0])
		p.Day, p.Partial = dayKey(w.Monday), !w.Monday.AddDate(0, 0, 6).Before(m.in.today)
		c.Points = append(c.Points, p)
	}
}

// featurePage answers /features/{feature}/{name}.
func (d *dashboard) featurePage(w http.ResponseWriter, r *http.Request) {
	f, ok := featureByName(r.PathValue("feature"))
	value := r.PathValue("name")
	if !ok || value == "" || len(value) > 200 {
		d.fail(w, r, http.StatusNotFound, "Say which feature: /features/transport/tcp (transport, http-api, pool or tls).")
		return
	}
	d.drillPage(w, r, featureSubject(f, value), featureSource{})
}
