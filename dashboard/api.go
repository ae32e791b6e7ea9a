package dashboard

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/mim-metrics/mim-metrics/facts"
)

// apiChart is a chart as /api/v1/{chart} gives it: the filter it was
// computed for, and its points.
type apiChart struct {
	Chart
	PeriodDays int    `json:"period_days"`
	From       string `json:"from"`
	To         string `json:"to"`
	Kind       string `json:"kind"`
	Version    string `json:"version"`
	// First is the period's first day with a report (nothing is drawn
	// before it); Today the day not over yet.
	First       string `json:"first_report,omitempty"`
	Today       string `json:"today"`
	MinClusters int64  `json:"min_clusters,omitempty"`
	// Module is the module of a module page's chart; Feature and Value
	// the feature and value of a feature page's.
	Module  string `json:"module,omitempty"`
	Feature string `json:"feature,omitempty"`
	Value   string `json:"value,omitempty"`
}

// api answers /api/v1/{chart}.json (or no suffix) and /api/v1/{chart}.csv.
func (d *dashboard) api(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("chart")
	format := "json"
	if id, ok := strings.CutSuffix(name, ".csv"); ok {
		name, format = id, "csv"
	} else if id, ok := strings.CutSuffix(name, ".svg"); ok {
		name, format = id, "svg"
	} else {
		name = strings.TrimSuffix(name, ".json")
	}
	def, ok := findChart(d.charts, name)
	sub, src, isDrill, problem := drillOfAPI(name, r.URL.Query())
	if problem != "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": problem})
		return
	}
	if isDrill {
		def, ok = chartOf(sub, name)
	}
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no chart " + strconv.Quote(truncate(name, 40)) + "; GET /api/v1/ lists them"})
		return
	}
	f, err := parseFilter(r.URL.Query(), d.now())
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	admin := d.isAdmin(r)
	if !admin && f.Version != facts.AllVersions {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": versionHidden})
		return
	}
	ctx, cancel := d.ctx(r)
	defer cancel()
	var chart Chart
	var in *pageInput
	if isDrill {
		var named bool
		chart, in, named, err = d.drillAPIChart(ctx, f, def, sub, src, admin)
		if err == nil && !named {
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no " + sub.Noun + " of that name is run by enough clusters to be shown publicly"})
			return
		}
	} else {
		var l loaded
		l, err = d.load(ctx, f, def)
		if err == nil {
			in, chart = l.in, d.chart(l, def, admin)
		}
	}
	if err != nil {
		d.unavailable(w, r, err)
		return
	}
	out := apiChart{Chart: chart, PeriodDays: f.Days, From: dayKey(f.From), To: dayKey(f.To), Kind: f.Kind,
		Version: f.Version, Today: dayKey(in.today)}
	if !in.empty() {
		out.First = dayKey(in.first)
	}
	if !admin {
		out.MinClusters = d.min
	}
	if isDrill {
		out.Module, out.Feature, out.Value = sub.API.Get("module"), sub.API.Get("feature"), sub.API.Get("value")
	}
	switch format {
	case "csv":
		writeCSV(w, out)
		return
	case "svg":
		d.writeSVG(w, r, out)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}

// writeCSV writes one line per point: series, group, label, day, clusters,
// share, sum, hidden, partial; then a line per base.
func writeCSV(w http.ResponseWriter, c apiChart) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+c.ID+`-`+c.To+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"series", "group", "label", "day", "clusters", "share", "sum", "hidden", "partial"})
	for _, p := range c.Points {
		_ = cw.Write([]string{p.Series, csvSafe(p.Group), csvSafe(p.Label), p.Day, strconv.FormatInt(p.Clusters, 10), num(p.Share),
			strconv.FormatInt(p.Sum, 10), p.Hidden, strconv.FormatBool(p.Partial)})
	}
	for _, b := range c.Bases {
		label := "base: " + b.Of
		_ = cw.Write([]string{b.Series, csvSafe(b.Group), csvSafe(label), "", strconv.FormatInt(b.Clusters, 10), "", "", b.Hidden, ""})
		if b.NotReported > 0 || b.NotReportedHidden != "" {
			_ = cw.Write([]string{b.Series, csvSafe(b.Group), notReportedLabel, "", strconv.FormatInt(b.NotReported, 10), "", "", b.NotReportedHidden, ""})
		}
	}
	cw.Flush()
}

// csvSafe keeps a spreadsheet from reading an untrusted value as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// apiIndex lists the charts and the filter parameters.
func (d *dashboard) apiIndex(w http.ResponseWriter, r *http.Request) {
	type entry struct {
		ID    string `json:"chart"`
		Title string `json:"title"`
		Type  string `json:"type"`
		JSON  string `json:"json"`
		CSV   string `json:"csv"`
		SVG   string `json:"svg"`
	}
	var list []entry
	for _, c := range d.charts {
		list = append(list, entry{c.ID, c.Title, c.Kind.name(), "/api/v1/" + c.ID + ".json", "/api/v1/" + c.ID + ".csv", "/api/v1/" + c.ID + ".svg"})
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"charts": list,
		"parameters": map[string]string{
			"period":  "30, 90 or 365 (days up to today, UTC); default 30",
			"kind":    "production, ci or all (both side by side); default all",
			"version": "a server version, or * for every cluster; default * (admin only)",
		},
		"today": dayKey(d.now().UTC().Truncate(24 * time.Hour)),
	})
}

// writeSVG writes the chart as the page draws it (wide), standalone.
func (d *dashboard) writeSVG(w http.ResponseWriter, r *http.Request, c apiChart) {
	v := newChartView(c.Chart, "")
	sub := fmt.Sprintf("%s to %s UTC, %s, mim-metrics", c.From, c.To, kindText(c.Kind))
	if c.Version != facts.AllVersions {
		sub += ", version " + c.Version
	}
	var buf bytes.Buffer
	if err := d.tmpl.ExecuteTemplate(&buf, "svgfile", newSVGFile(v, sub)); err != nil {
		d.log.Error("dashboard: drawing a chart's SVG", zap.String("chart", c.ID), zap.Error(err))
		http.Error(w, "The chart could not be drawn (see the receiver's log).", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Content-Disposition", `attachment; filename="`+c.ID+`-`+c.To+`.svg"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// kindText names the property kinds of a filter.
func kindText(kind string) string {
	if kind == kindAll {
		return "production and CI"
	}
	return kind
}

// drillOfAPI says whether an API chart name is a drill-down page's, and
// for which subject; problem is what the request lacks.
func drillOfAPI(name string, q url.Values) (sub subject, src drillSource, ok bool, problem string) {
	if _, isModule := moduleChartByID(name); isModule {
		module := q.Get("module")
		if module == "" || len(module) > 200 {
			return subject{}, nil, false, "say which module: module=mod_vcard"
		}
		return moduleSubject(module), moduleSource{}, true, ""
	}
	if _, isFeature := featureChartByID(name); isFeature {
		f, known := featureByName(q.Get("feature"))
		value := q.Get("value")
		if !known || value == "" || len(value) > 200 {
			return subject{}, nil, false, "say which feature and value: feature=transport&value=tcp (transport, http-api, pool or tls)"
		}
		return featureSubject(f, value), featureSource{}, true, ""
	}
	return subject{}, nil, false, ""
}

// chartOf finds one of a subject's charts.
func chartOf(sub subject, id string) (ChartDef, bool) { return findChart(sub.Charts, id) }

// isDrillChart says whether id names a drill-down page's chart.
func isDrillChart(id string) bool {
	_, module := moduleChartByID(id)
	_, feature := featureChartByID(id)
	return module || feature
}
