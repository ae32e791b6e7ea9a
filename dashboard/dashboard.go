// Package dashboard draws what the receiver keeps: server-rendered pages
// (html/template, inline SVG charts drawn here, a little own JavaScript,
// every asset embedded) and the same numbers as JSON and CSV under /api/v1/.
//
// Two audiences: the public view (no login) shows aggregates only, a value
// whose daily distinct clusters never reach Options.MinClusters in the
// period folded into "other"; the admin view (bearer token, or a cookie set
// by the login form) shows everything, a cluster's own history and the
// ingest health.
//
// A chart is one declaration, a ChartDef of charts.go: its id, page,
// title, dimension, kind, known values, empty message and unit. Its Kind
// (kinds.go: Shares, Weekly, Daily, Sums, and the built-in charts' own)
// says once how such a chart is read, counted, drawn and explained;
// Options.Charts adds charts, a new metric's, without editing the package.
package dashboard

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/mim-metrics/mim-metrics/census"
	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configure the dashboard.
type Options struct {
	// MinClusters is the public view's threshold: no count of fewer
	// clusters is shown, nor one that could be worked out. Zero or less: 5.
	MinClusters int
	// MaxStale lets a page be drawn from the counts of the roll-ups before
	// the last ones, when those are at most this old, while the new counts
	// are computed in the background (the receiver rolls up every minute:
	// without it, every first request after a roll-up counts a period's
	// runs anew). Zero: always the last roll-ups' counts.
	MaxStale time.Duration
	// AdminToken enables the admin view; empty: no admin view.
	AdminToken string
	// Now gives the time ("today" ends every period); nil: time.Now.
	Now func() time.Time
	// Logger receives store failures; nil: no logs.
	Logger *zap.Logger
	// Guard limits guesses of the admin token and tells HTTPS requests
	// (behind a trusted proxy too); nil: no limit, HTTPS only when the
	// request came over TLS here.
	Guard Guard
	// Charts are drawn beside the built-in ones: each on its page after
	// the page's own, at /api/v1/{ID}.json and on /methodology, through
	// the same public rule. A declaration without an ID, a title, a
	// dimension or a kind, with an ID already taken or of no page, is a
	// defect: New panics naming it.
	Charts []ChartDef
}

// DefaultMaxStale is the receiver's Options.MaxStale: two of its roll-up
// minutes.
const DefaultMaxStale = 2 * time.Minute

// DefaultMinClusters is the public view's default threshold.
const DefaultMinClusters = 5

const adminCookie = "mim_metrics_admin"

type dashboard struct {
	st      store.Store
	min     int64
	token   string
	now     func() time.Time
	log     *zap.Logger
	tmpl    *template.Template
	guard   Guard
	mux     *http.ServeMux
	timeout time.Duration
	inputs  *ttlCache[loaded] // by filter and charts, whatever the roll-up version
	// maxStale: Options.MaxStale; refreshing: the inputs being computed.
	maxStale   time.Duration
	refreshMu  sync.Mutex
	refreshing map[string]bool
	built      *ttlCache[Chart]         // built charts, by input key, chart and view
	drawn      *ttlCache[template.HTML] // drawn charts, by input key, chart, view and filter
	// charts: the built-in charts and Options.Charts; pages: the pages
	// with their charts.
	charts []ChartDef
	pages  []pageDef
}

// New returns the dashboard's handler: the pages at /, /clusters, /shape,
// /features, /traffic, /geography and /admin, assets under /static/, and
// the API under /api/v1/.
func New(st store.Store, opts Options) http.Handler {
	d := &dashboard{
		st:         st,
		min:        int64(opts.MinClusters),
		token:      opts.AdminToken,
		now:        opts.Now,
		log:        opts.Logger,
		guard:      opts.Guard,
		timeout:    20 * time.Second,
		inputs:     newCache[loaded](time.Now, 64), // filters: periods, kinds, versions, chart sets
		maxStale:   opts.MaxStale,
		refreshing: map[string]bool{},
		built:      newCache[Chart](time.Now, 512), // and charts, two views
		drawn:      newCache[template.HTML](time.Now, 512),
	}
	var err error
	if d.charts, err = allCharts(opts.Charts); err != nil {
		panic("dashboard: " + err.Error()) // a declaration's defect, like a template's
	}
	d.pages = pagesOf(d.charts)
	if d.min <= 0 {
		d.min = DefaultMinClusters
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.log == nil {
		d.log = zap.NewNop()
	}
	d.tmpl = template.Must(template.New("").Funcs(template.FuncMap{
		"num":     num,
		"percent": percent,
		"day":     func(t time.Time) string { return t.UTC().Format(time.DateOnly) },
		"when":    func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
		"cut":     func(s string) string { return truncate(s, labelRunes) },
		"wrap":    wrap,
	}).ParseFS(templateFS, "templates/*.html"))
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embedded directory exists: a build defect
	}
	mux := http.NewServeMux()
	for _, pg := range d.pages {
		path := pg.Path
		if path == "/" {
			path = "/{$}"
		}
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) { d.page(w, r, pg) })
	}
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheFor(time.Hour, http.FileServerFS(static))))
	mux.HandleFunc("GET /methodology", d.methodology)
	mux.HandleFunc("GET /modules/{name}", d.modulePage)
	mux.HandleFunc("GET /features/{feature}/{name}", d.featurePage)
	mux.HandleFunc("GET /api/v1/{$}", d.apiIndex)
	mux.HandleFunc("GET /api/v1/{chart}", d.api)
	mux.HandleFunc("GET /admin", d.admin)
	mux.HandleFunc("GET /admin/cluster", d.cluster)
	mux.HandleFunc("POST /admin/login", d.login)
	mux.HandleFunc("POST /admin/logout", d.logout)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		d.fail(w, r, http.StatusNotFound, "No such page: "+truncate(r.URL.Path, 80))
	})
	d.mux = mux
	return d
}

func (d *dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	d.mux.ServeHTTP(w, withAdminCheck(r))
}

func cacheFor(d time.Duration, h http.Handler) http.Handler {
	v := "public, max-age=" + strconv.Itoa(int(d.Seconds()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", v)
		h.ServeHTTP(w, r)
	})
}

// isAdmin says whether the request carries the admin token (a bearer
// token, or a live admin session's cookie): see session.go.
func (d *dashboard) isAdmin(r *http.Request) bool { return d.checkAdminOnce(r) }

func (d *dashboard) tokenMatches(given string) bool {
	a := sha256.Sum256([]byte(given))
	b := sha256.Sum256([]byte(d.token))
	return hmac.Equal(a[:], b[:])
}

// ctx bounds a request's store calls.
func (d *dashboard) ctx(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), d.timeout)
}

// base is what every page's layout shows.
type base struct {
	Title  string
	Path   string
	Pages  []pageDef
	Filter filter
	// Query is the filter as a query string, for the links that keep it.
	Query    template.URL
	Versions []string
	Periods  []int
	Admin    bool
	AdminOn  bool
	Min      int64
	// ClientIDParam keeps the cluster of the history page in the filter.
	ClientIDParam string
	// Status says how many clusters the filter covers and how recent the
	// data is (every page but the error pages).
	Status string
}

func (d *dashboard) base(r *http.Request, title string, f filter, versions []string) base {
	if f.Version != facts.AllVersions && !slices.Contains(versions, f.Version) {
		// The filter's version is an option of its select, even on a page
		// that does not list the period's versions.
		versions = append(slices.Clone(versions), f.Version)
	}
	return base{Title: title, Path: r.URL.Path, Pages: d.pages, Filter: f, Query: template.URL(f.values().Encode()),
		Versions: versions, Periods: periods, Admin: d.isAdmin(r), AdminOn: d.token != "", Min: d.min}
}

// pageData is a chart page.
type pageData struct {
	base
	Charts       []chartView
	Active       []activeSummary
	NoReports    bool
	NoPeriodData bool
	// Notes replace the charts that no cluster of the period reported
	// (their declaration's Empty).
	Notes []note
	// UsersOf: Active counts the users of "the module" (or feature) of a
	// drill-down page.
	UsersOf string
	// From is the first day drawn (the period's first report), To the
	// last (today, not over).
	From, To string
}

// note is a chart's Empty message, shown instead of it.
type note struct {
	ID   string
	Text template.HTML
}

// activeSummary is one series' distinct active clusters of the period.
type activeSummary struct {
	Series   string
	Clusters int64
	Hidden   string
}

func (d *dashboard) page(w http.ResponseWriter, r *http.Request, pg pageDef) {
	f, admin, ok := d.pageFilter(w, r)
	if !ok {
		return
	}
	ctx, cancel := d.ctx(r)
	defer cancel()
	defs := pg.Charts
	l, err := d.load(ctx, f, defs...)
	if err != nil {
		d.unavailable(w, r, err)
		return
	}
	in := l.in
	data := pageData{base: d.base(r, pg.Title, f, l.versions), To: dayKey(f.To)}
	data.Status = d.statusLine(in, admin)
	if !admin {
		data.Versions = nil
	}
	if in.empty() {
		last, err := d.st.LastReports(ctx)
		if err != nil {
			d.unavailable(w, r, err)
			return
		}
		data.NoReports = len(last) == 0
		data.NoPeriodData = !data.NoReports
	}
	if !data.NoReports {
		b := builder{in: in, hide: !admin, k: d.min}
		data.From = dayKey(in.first)
		if in.empty() {
			data.From = dayKey(f.From)
		}
		for _, s := range f.series() {
			a := activeSummary{Series: string(s)}
			if c := in.counts[s]; c != nil {
				a.Clusters = int64(c.Active)
			}
			if b.hide && a.Clusters > 0 && a.Clusters < d.min {
				a.Clusters, a.Hidden = 0, b.fewer()
			}
			data.Active = append(data.Active, a)
		}
		query := f.values().Encode()
		for _, def := range defs {
			if def.Empty != "" && !in.reported(def.Dimension) {
				data.Notes = append(data.Notes, note{ID: "no-" + def.ID, Text: def.Empty})
				continue
			}
			data.Charts = append(data.Charts, d.renderedChart(l, def, admin, query))
		}
	}
	d.render(w, r, http.StatusOK, "page", data)
}

// pageFilter reads a page's filter and whether the request is the
// admin's; false: the error page is written (a bad filter, or a version
// filter in public).
func (d *dashboard) pageFilter(w http.ResponseWriter, r *http.Request) (filter, bool, bool) {
	f, err := parseFilter(r.URL.Query(), d.now())
	if err != nil {
		d.fail(w, r, http.StatusBadRequest, "Bad filter: "+err.Error())
		return filter{}, false, false
	}
	admin := d.isAdmin(r)
	if !admin && f.Version != facts.AllVersions {
		d.fail(w, r, http.StatusNotFound, versionHidden)
		return filter{}, false, false
	}
	return f, admin, true
}

// load reads what the charts of defs need for filter f: the cluster runs
// of the period (every share and weekly chart's distinct clusters), and
// the daily roll-ups of the charts drawn per day. It also returns the
// server versions reported in the period, newest first.
func (d *dashboard) load(ctx context.Context, f filter, defs ...ChartDef) (loaded, error) {
	version, err := d.st.RollupVersion(ctx)
	if err != nil {
		return loaded{}, err
	}
	dailyDims, weekly := inputsOf(defs)
	what := fmt.Sprint(f.values().Encode(), "|", dayKey(f.To), "|", dailyDims, weekly)
	if l, ok := d.inputs.get(what); ok {
		if l.version == version {
			return l, nil
		}
		if d.maxStale > 0 && time.Since(l.at) <= d.maxStale {
			d.refresh(what, version, f, dailyDims, defs)
			return l, nil
		}
	}
	l, err := d.compute(ctx, what, version, f, dailyDims, defs)
	if err != nil {
		return loaded{}, err
	}
	d.inputs.put(what, l)
	return l, nil
}

// inputsOf lists what the charts of defs read beyond the period's distinct
// clusters: the dimensions of the daily roll-ups (the active clusters
// always), and the charts that count ISO weeks.
func inputsOf(defs []ChartDef) (dailyDims, weekly []string) {
	dailyDims = []string{facts.Clusters}
	for _, def := range defs {
		for _, dim := range def.Kind.rollups(def) {
			if !slices.Contains(dailyDims, dim) {
				dailyDims = append(dailyDims, dim)
			}
		}
		if def.Kind.weekly() {
			weekly = append(weekly, def.ID)
		}
	}
	return dailyDims, weekly
}

// compute reads and counts what the charts of defs need for filter f.
func (d *dashboard) compute(ctx context.Context, what string, version int64, f filter, dailyDims []string, defs []ChartDef) (loaded, error) {
	set, err := d.st.Runs(ctx, f.From, f.To)
	if err != nil {
		return loaded{}, err
	}
	rows, err := d.st.Rollups(ctx, f.query(dailyDims...))
	if err != nil {
		return loaded{}, err
	}
	in := newPageInput(f, d.now(), set, rows, defs, d.min)
	return loaded{in: in, versions: versionsIn(set),
		key: fmt.Sprint(version, "|", what), version: version, at: time.Now()}, nil
}

// refresh computes an input anew in the background, once at a time per
// key; a failure leaves the cached one (the next request tries again).
func (d *dashboard) refresh(what string, version int64, f filter, dailyDims []string, defs []ChartDef) {
	d.refreshMu.Lock()
	if d.refreshing[what] {
		d.refreshMu.Unlock()
		return
	}
	d.refreshing[what] = true
	d.refreshMu.Unlock()
	go func() {
		defer func() {
			d.refreshMu.Lock()
			delete(d.refreshing, what)
			d.refreshMu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), d.timeout)
		defer cancel()
		l, err := d.compute(ctx, what, version, f, dailyDims, defs)
		if err != nil {
			d.log.Warn("dashboard: counting a period anew failed", zap.Error(err))
			return
		}
		d.inputs.put(what, l)
	}()
}

// renderedChart is a chart drawn (its section of the page) once per input,
// view and filter: a year's charts are hundreds of kilobytes of SVG and
// tables, drawn again for every request otherwise.
func (d *dashboard) renderedChart(l loaded, def ChartDef, admin bool, query string) chartView {
	key := fmt.Sprint(l.key, "|", def.ID, "|", admin, "|", query)
	if h, ok := d.drawn.get(key); ok {
		return chartView{HTML: h}
	}
	v := newChartView(d.chart(l, def, admin), query)
	var buf bytes.Buffer
	if err := d.tmpl.ExecuteTemplate(&buf, "chart", v); err != nil {
		d.log.Error("dashboard: drawing a chart", zap.String("chart", def.ID), zap.Error(err))
		return v // the page's rendering fails the same way and says so
	}
	h := template.HTML(buf.String()) // html/template's output: escaped already
	d.drawn.put(key, h)
	return chartView{HTML: h}
}

// chart builds one chart of a loaded input, or takes it from the cache.
func (d *dashboard) chart(l loaded, def ChartDef, admin bool) Chart {
	key := fmt.Sprint(l.key, "|", def.ID, "|", admin)
	if c, ok := d.built.get(key); ok {
		return c
	}
	c := builder{in: l.in, hide: !admin, k: d.min}.build(def)
	d.built.put(key, c)
	return c
}

// newPageInput computes what the charts of defs are drawn from: the
// period's and weeks' distinct clusters from the runs, the daily roll-ups
// indexed, the first day with a report; k is the public threshold (the
// supported lines are those of k clusters).
func newPageInput(f filter, now time.Time, set store.RunSet, rows []store.RollupRow, defs []ChartDef, k int64) *pageInput {
	in := &pageInput{f: f, today: store.Day(now), daily: map[valueKey]map[string]store.RollupRow{}, weeks: map[string][]census.Week{}}
	in.counts = census.Count(set, census.Query{From: f.From, To: f.To, Version: f.Version})
	for _, def := range defs {
		def.Kind.count(in, set, def, k)
	}
	kinds := f.series()
	for _, row := range rows {
		if !slices.Contains(kinds, row.Kind) {
			continue
		}
		k := valueKey{row.Kind, row.Dimension, row.Value}
		if in.daily[k] == nil {
			in.daily[k] = map[string]store.RollupRow{}
		}
		in.daily[k][dayKey(row.Day)] = row
		if row.Dimension == facts.Clusters && row.Clusters > 0 && (in.first.IsZero() || row.Day.Before(in.first)) {
			in.first = row.Day
		}
	}
	// The runs know the first day too when the daily roll-ups were lost.
	for _, run := range set.Runs {
		if !slices.Contains(kinds, run.Kind) || run.Last.Before(f.From) {
			continue
		}
		first := run.First
		if first.Before(f.From) {
			first = f.From
		}
		if last := earlier(run.Last, f.To); !run.First.After(f.To) && last.After(in.last) {
			in.last = last
		}
		if in.first.IsZero() || first.Before(in.first) {
			in.first = first
		}
	}
	return in
}

// versionsIn lists the versions of a run set's profiles, newest first.
func versionsIn(set store.RunSet) []string {
	seen := map[string]bool{}
	for _, run := range set.Runs {
		for _, fact := range set.Profiles[run.Profile] {
			if fact.Dimension == facts.Version {
				seen[fact.Value] = true
			}
		}
	}
	out := sortedKeys(seen)
	slices.SortFunc(out, func(a, b string) int { return compareVersions(b, a) })
	return out
}

// reported says whether a cluster of the period reported a value of dim.
func (in *pageInput) reported(dim string) bool {
	for _, c := range in.counts {
		if len(c.Values[dim]) > 0 {
			return true
		}
	}
	for k := range in.daily {
		if k.Dimension == dim {
			return true
		}
	}
	return false
}

// versionHidden is the public view's answer to a version filter: per
// version splits of small groups could be subtracted from the whole.
const versionHidden = "The version filter is for the admin view: the numbers of one version's clusters, beside those of all clusters, could tell about a few clusters."

// compareVersions orders version strings by their numeric parts.
func compareVersions(a, b string) int {
	split := func(s string) []string {
		return strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == '-' || r == '+' })
	}
	pa, pb := split(a), split(b)
	for i := 0; i < len(pa) && i < len(pb); i++ {
		na, ea := atoiOK(pa[i])
		nb, eb := atoiOK(pb[i])
		switch {
		case ea && eb && na != nb:
			if na < nb {
				return -1
			}
			return 1
		case !(ea && eb) && pa[i] != pb[i]:
			return strings.Compare(pa[i], pb[i])
		}
	}
	if len(pa) != len(pb) {
		if len(pa) < len(pb) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

func atoiOK(s string) (int, bool) {
	if s == "" || len(s) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// render executes a template into a buffer, then writes it: a template
// failure is a 500, never half a page.
func (d *dashboard) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := d.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		d.log.Error("dashboard: rendering a page", zap.String("page", name), zap.Error(err))
		http.Error(w, "The page could not be drawn (see the receiver's log).", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorData struct {
	base
	Status  int
	Message string
}

// fail shows an error page.
func (d *dashboard) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	f, _ := parseFilter(nil, d.now())
	d.render(w, r, status, "error", errorData{base: d.base(r, http.StatusText(status), f, nil), Status: status, Message: msg})
}

// unavailable answers 503 when the store fails; the error goes to the log,
// not to the page.
func (d *dashboard) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return // the client went away
	}
	d.log.Warn("dashboard: the store did not answer", zap.String("path", r.URL.Path), zap.Error(err))
	w.Header().Set("Retry-After", "30")
	if strings.HasPrefix(r.URL.Path, "/api/") {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "the store does not answer; try again later"})
		return
	}
	d.fail(w, r, http.StatusServiceUnavailable, "The receiver's database does not answer. Try again in a minute; the receiver's log says why.")
}
