package dashboard_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/dashboard"
	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
	"github.com/mim-metrics/mim-metrics/test/pgtest"
)

var pg *pgtest.Server

func TestMain(m *testing.M) { pgtest.Main(m, &pg) }

const token = "admin-token-for-tests"

var now = time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// forEachStore runs fn with a fresh SQLite store and, when PostgreSQL is
// installed, a fresh database on the test server.
func forEachStore(t *testing.T, fn func(t *testing.T, st store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, open(t, "sqlite:"+filepath.Join(t.TempDir(), "d.db")))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, open(t, pg.NewDatabase(t)))
	})
}

func open(t *testing.T, dsn string) store.Store {
	t.Helper()
	st, err := store.Open(ctxT(t), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func event(name string, kv ...any) contract.Event {
	p := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		p[kv[i].(string)] = kv[i+1]
	}
	return contract.Event{Name: name, Params: p}
}

// report stores one cluster's report of one day (days before now).
func report(t *testing.T, st store.Store, kind store.Kind, id string, day int, version string, more ...contract.Event) {
	t.Helper()
	reportFrom(t, st, "", kind, id, day, version, more...)
}

// reportFrom is report with the sender's country.
func reportFrom(t *testing.T, st store.Store, country string, kind store.Kind, id string, day int, version string, more ...contract.Event) {
	t.Helper()
	evs := append([]contract.Event{
		event("cluster", "uptime", "0001-00:00:00", "version", version, "component", int64(0), "node_number", int64(1), "config_type", "toml"),
		event("host_count", "value", int64(1)),
	}, more...)
	_, err := st.AddBatch(ctxT(t), store.Batch{Received: now.AddDate(0, 0, -day), Property: "G-" + strings.ToUpper(string(kind)),
		Kind: kind, ClientID: id, Country: country, Counted: true, Events: evs})
	if err != nil {
		t.Fatal(err)
	}
}

func rollUp(t *testing.T, st store.Store) {
	t.Helper()
	days, err := st.DaysToRollUp(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range days {
		if err := st.RollUp(ctxT(t), d); err != nil {
			t.Fatal(err)
		}
	}
}

// sample: six production clusters on 6.2.1 with mod_vcard/mnesia, two of
// them with rdbms instead (below the threshold of 5), on two days.
func sample(t *testing.T, st store.Store) {
	for day := 0; day < 2; day++ {
		for i := 0; i < 6; i++ {
			backend := "mnesia"
			if i < 2 {
				backend = "rdbms"
			}
			report(t, st, store.Production, fmt.Sprintf("cluster-%d", i), day, "6.2.1",
				event("module_with_opt", "module", "mod_vcard", "backend", backend))
		}
		report(t, st, store.CI, "ci-1", day, "6.6.0")
		report(t, st, store.Production, "lonely", day, "7.0.0-rare")
	}
	rollUp(t, st)
}

func server(t *testing.T, st store.Store, opts dashboard.Options) *httptest.Server {
	if opts.Now == nil {
		opts.Now = func() time.Time { return now }
	}
	srv := httptest.NewServer(dashboard.New(st, opts))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, u string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

type point struct {
	Series   string  `json:"series"`
	Group    string  `json:"group"`
	Label    string  `json:"label"`
	Day      string  `json:"day"`
	Clusters int64   `json:"clusters"`
	Share    float64 `json:"share"`
	Sum      int64   `json:"sum"`
	Hidden   string  `json:"hidden"`
	Partial  bool    `json:"partial"`
}

type chart struct {
	Chart  string  `json:"chart"`
	Points []point `json:"points"`
}

func apiJSON(t *testing.T, srv *httptest.Server, path string, header ...string) chart {
	t.Helper()
	code, _, body := get(t, srv.URL+path, header...)
	if code != 200 {
		t.Fatalf("GET %s: %d %s", path, code, body)
	}
	var c chart
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func find(c chart, series, group, label string) (point, bool) {
	for _, p := range c.Points {
		if p.Series == series && p.Group == group && p.Label == label && p.Day == "" {
			return p, true
		}
	}
	return point{}, false
}

func TestPagesAndAPI(t *testing.T) {
	forEachStore(t, func(t *testing.T, st store.Store) {
		sample(t, st)
		srv := server(t, st, dashboard.Options{AdminToken: token})
		for _, path := range []string{"/", "/clusters", "/shape", "/features", "/traffic", "/geography", "/?period=365&kind=ci"} {
			code, h, body := get(t, srv.URL+path)
			if code != 200 || !strings.Contains(h.Get("Content-Type"), "text/html") {
				t.Errorf("GET %s: %d %s", path, code, h.Get("Content-Type"))
			}
			if !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") {
				t.Errorf("GET %s: no CSP", path)
			}
			if strings.Contains(body, "cluster-1") || strings.Contains(body, "lonely") {
				t.Errorf("GET %s: a client id on a public page", path)
			}
		}
		// Every navigation link keeps the filter.
		_, _, page := get(t, srv.URL+"/clusters?period=90&kind=production")
		for _, want := range []string{`href="/shape?kind=production&amp;period=90&amp;version=%2a"`, `href="/?kind=production&amp;period=90&amp;version=%2a"`} {
			if !strings.Contains(strings.ToLower(page), want) {
				t.Errorf("the page has no link %s", want)
			}
		}
		// Six clusters run mod_vcard: mnesia 4 and rdbms 2 are both under
		// 5, and the table adds up to 6: nothing of it is shown.
		c := apiJSON(t, srv, "/api/v1/backends.json")
		for _, be := range []string{"mnesia", "rdbms", "ldap"} {
			if p, ok := find(c, "production", "mod_vcard", be); !ok || p.Hidden == "" || p.Clusters != 0 || p.Share != 0 {
				t.Errorf("public mod_vcard/%s: %+v %v, want hidden", be, p, ok)
			}
		}
		// The admin sees it all: 4 and 2 of mod_vcard's 6 users.
		c = apiJSON(t, srv, "/api/v1/backends", "Authorization", "Bearer "+token)
		if p, ok := find(c, "production", "mod_vcard", "mnesia"); !ok || p.Clusters != 4 || p.Share != 0.6667 || p.Hidden != "" {
			t.Errorf("admin mnesia: %+v %v", p, ok)
		}
		if p, ok := find(c, "production", "mod_vcard", "ldap"); !ok || p.Clusters != 0 || p.Hidden != "" {
			t.Errorf("admin ldap: %+v %v, want a zero", p, ok)
		}
		// A wrong token is the public view, not an error.
		c = apiJSON(t, srv, "/api/v1/backends", "Authorization", "Bearer wrong")
		if p, _ := find(c, "production", "mod_vcard", "mnesia"); p.Hidden == "" {
			t.Errorf("a wrong token sees hidden values")
		}
		// CSV: the same points.
		c = apiJSON(t, srv, "/api/v1/versions.json?period=90")
		code, h, body := get(t, srv.URL+"/api/v1/versions.csv?period=90")
		if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
			t.Fatalf("csv: %d %s", code, h.Get("Content-Type"))
		}
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil || len(recs) < len(c.Points)+1 || strings.Join(recs[0], ",") != "series,group,label,day,clusters,share,sum,hidden,partial" {
			t.Fatalf("csv: %d records for %d points, %v", len(recs), len(c.Points), err)
		}
		for i, p := range c.Points {
			r := recs[i+1]
			if r[0] != p.Series || r[2] != p.Label || r[3] != p.Day || r[5] != strconv.FormatFloat(p.Share, 'f', -1, 64) {
				t.Errorf("csv row %v, json %+v", r, p)
				break
			}
		}
		// Every chart of the index answers.
		var index struct {
			Charts []struct{ JSON, CSV string } `json:"charts"`
		}
		_, _, body = get(t, srv.URL+"/api/v1/")
		if err := json.Unmarshal([]byte(body), &index); err != nil || len(index.Charts) < 15 {
			t.Fatalf("index: %v %s", err, body)
		}
		for _, e := range index.Charts {
			for _, p := range []string{e.JSON, e.CSV} {
				if code, _, _ := get(t, srv.URL+p+"?kind=production"); code != 200 {
					t.Errorf("GET %s: %d", p, code)
				}
			}
		}
	})
}

func TestVersionFilterPublicAndAdmin(t *testing.T) {
	st := open(t, "sqlite:"+filepath.Join(t.TempDir(), "d.db"))
	sample(t, st)
	srv := server(t, st, dashboard.Options{AdminToken: token})
	// One cluster runs 7.0.0-rare: no public page names it; the version
	// filter is the admin's only.
	_, _, body := get(t, srv.URL+"/")
	if strings.Contains(body, "7.0.0-rare") {
		t.Errorf("a public page names a version of one cluster")
	}
	for _, v := range []string{"7.0.0-rare", "6.2.1"} {
		if code, _, _ := get(t, srv.URL+"/?version="+v); code != 404 {
			t.Errorf("public page for version %s: %d, want 404", v, code)
		}
		if code, _, _ := get(t, srv.URL+"/api/v1/active.json?version="+v); code != 404 {
			t.Errorf("public API for version %s: %d, want 404", v, code)
		}
	}
	c := apiJSON(t, srv, "/api/v1/active.json?version=7.0.0-rare&kind=production", "Authorization", "Bearer "+token)
	var n int64
	for _, p := range c.Points {
		n += p.Clusters
	}
	if n != 2 {
		t.Errorf("admin: %v cluster-days of 7.0.0-rare, want 2", n)
	}
	// The admin's 6.2.1 filter: 6 distinct clusters in the period.
	_, _, body = get(t, srv.URL+"/?version=6.2.1&kind=production", "Authorization", "Bearer "+token)
	if !strings.Contains(body, `data-active="production" data-value="6"`) {
		t.Errorf("6.2.1 page does not say 6 clusters")
	}
	for _, bad := range []string{"period=7", "kind=staging", "version=" + strings.Repeat("x", 101)} {
		if code, _, _ := get(t, srv.URL+"/?"+bad); code != 400 {
			t.Errorf("%s: %d, want 400", bad, code)
		}
		if code, _, body := get(t, srv.URL+"/api/v1/modules?"+bad); code != 400 || !strings.Contains(body, `"error"`) {
			t.Errorf("api %s: %d %s", bad, code, body)
		}
	}
}

func TestAdminLogin(t *testing.T) {
	st := open(t, "sqlite:"+filepath.Join(t.TempDir(), "d.db"))
	sample(t, st)
	if err := st.AddIngestCounts(ctxT(t), []store.IngestCount{{Day: store.Day(now), Property: "G-PRODUCTION", Name: "rejected", Reason: "bad <b>value</b>", N: 3}}); err != nil {
		t.Fatal(err)
	}
	srv := server(t, st, dashboard.Options{AdminToken: token})
	if code, h, _ := get(t, srv.URL+"/admin"); code != 401 || h.Get("WWW-Authenticate") == "" {
		t.Errorf("/admin without a token: %d", code)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.PostForm(srv.URL+"/admin/login", url.Values{"token": {"nope"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || len(resp.Cookies()) != 0 {
		t.Errorf("wrong token: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	resp, err = noRedirect.PostForm(srv.URL+"/admin/login", url.Values{"token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 303 || len(resp.Cookies()) != 1 {
		t.Fatalf("right token: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	cookie := resp.Cookies()[0]
	if !cookie.HttpOnly || strings.Contains(cookie.Value, token) {
		t.Errorf("cookie %+v: want HttpOnly and not the token itself", cookie)
	}
	code, _, body := get(t, srv.URL+"/admin", "Cookie", cookie.Name+"="+cookie.Value)
	if code != 200 || !strings.Contains(body, "cluster-1") || !strings.Contains(body, "bad &lt;b&gt;value&lt;/b&gt;") {
		t.Errorf("admin page: %d; want the clusters and the escaped rejection reason", code)
	}
	code, _, body = get(t, srv.URL+"/admin/cluster?id=cluster-1", "Authorization", "Bearer "+token)
	if code != 200 || !strings.Contains(body, "mod_vcard/rdbms") || !strings.Contains(body, "6.2.1") {
		t.Errorf("cluster history: %d", code)
	}
	// No token configured: no admin view at all.
	off := server(t, st, dashboard.Options{})
	if code, _, _ := get(t, off.URL+"/admin"); code != 404 {
		t.Errorf("/admin with the admin view off: %d", code)
	}
	if c := apiJSON(t, off, "/api/v1/backends", "Authorization", "Bearer "); len(c.Points) == 0 {
		t.Errorf("no points")
	}
}

func TestEmptyAndDown(t *testing.T) {
	st := open(t, "sqlite:"+filepath.Join(t.TempDir(), "d.db"))
	srv := server(t, st, dashboard.Options{})
	code, _, body := get(t, srv.URL+"/")
	if code != 200 || !strings.Contains(body, "--receiver http://G-ID:SECRET@HOST:PORT") {
		t.Errorf("empty receiver: %d, no sidecar instructions", code)
	}
	st.Close()
	code, _, body = get(t, srv.URL+"/")
	if code != 503 || strings.Contains(body, "goroutine") || strings.Contains(body, "sql:") {
		t.Errorf("store closed: %d %s", code, body)
	}
	if code, _, body := get(t, srv.URL+"/api/v1/modules.json"); code != 503 || !strings.Contains(body, `"error"`) {
		t.Errorf("API, store closed: %d %s", code, body)
	}
	if pg == nil {
		return
	}
	// A PostgreSQL server that stops: 503, then the pages again.
	pst := open(t, pg.NewDatabase(t))
	sample(t, pst)
	psrv := server(t, pst, dashboard.Options{})
	if err := pg.Pause(); err != nil {
		t.Fatal(err)
	}
	code, _, _ = get(t, psrv.URL+"/clusters")
	if err := pg.Resume(); err != nil {
		t.Fatal(err)
	}
	if code != 503 {
		t.Errorf("PostgreSQL stopped: %d, want 503", code)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, _, _ = get(t, psrv.URL+"/clusters")
		if code == 200 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if code != 200 {
		t.Errorf("PostgreSQL back: %d", code)
	}
}

func TestGeography(t *testing.T) {
	st := open(t, "sqlite:"+filepath.Join(t.TempDir(), "d.db"))
	sample(t, st)
	srv := server(t, st, dashboard.Options{AdminToken: token})
	_, _, body := get(t, srv.URL+"/geography")
	if !strings.Contains(body, `id="no-countries"`) || strings.Contains(body, `id="chart-countries"`) {
		t.Errorf("no country data: the page should say so and draw no chart")
	}
	for i := 0; i < 6; i++ {
		reportFrom(t, st, "DE", store.Production, fmt.Sprintf("de-%d", i), 0, "6.2.1")
	}
	reportFrom(t, st, "FR", store.Production, "fr-0", 0, "6.2.1")
	rollUp(t, st)
	_, _, body = get(t, srv.URL+"/geography")
	if !strings.Contains(body, `id="chart-countries"`) {
		t.Errorf("country data: no chart")
	}
	c := apiJSON(t, srv, "/api/v1/countries?kind=production", "Authorization", "Bearer "+token)
	if p, ok := find(c, "production", "", "DE"); !ok || p.Clusters != 6 {
		t.Errorf("admin DE: %+v %v, want 6 clusters", p, ok)
	}
	c = apiJSON(t, srv, "/api/v1/countries?kind=production")
	if _, ok := find(c, "production", "", "FR"); ok {
		t.Errorf("FR (one cluster) named publicly")
	}
}

// The methodology page says, for every chart, its unit and the rule of
// its dimension, and the public view's rule, from the same definitions
// that count.
func TestMethodology(t *testing.T) {
	st := open(t, "sqlite:"+filepath.Join(t.TempDir(), "d.db"))
	srv := server(t, st, dashboard.Options{MinClusters: 7})
	code, _, body := get(t, srv.URL+"/methodology")
	if code != 200 {
		t.Fatalf("GET /methodology: %d", code)
	}
	for _, spec := range facts.Specs {
		if !strings.Contains(body, template.HTMLEscapeString(spec.Rule)) {
			t.Errorf("the rule of %s is not on the page: %q", spec.Name, spec.Rule)
		}
		if spec.NotReported != "" && !strings.Contains(body, template.HTMLEscapeString(spec.NotReported)) {
			t.Errorf("what cannot report %s is not on the page", spec.Name)
		}
	}
	for _, want := range []string{"fewer than 7 clusters", `id="chart-backends"`, `id="chart-stanzas"`, "ISO week",
		"a supported line is one of the newest 2 release lines run by at least 7 clusters"} {
		if !strings.Contains(body, template.HTMLEscapeString(want)) && !strings.Contains(body, want) {
			t.Errorf("the methodology page does not say %q", want)
		}
	}
}

// With MaxStale, the first request after a roll-up is drawn from the
// previous roll-up's counts while the new ones are counted; the next ones
// have them. Without it, the new counts come at once.
func TestMaxStaleRecountsInTheBackground(t *testing.T) {
	st := open(t, "sqlite:"+filepath.Join(t.TempDir(), "d.db"))
	sample(t, st)
	stale := server(t, st, dashboard.Options{AdminToken: token, MaxStale: time.Hour})
	fresh := server(t, st, dashboard.Options{AdminToken: token})
	users := func(srv *httptest.Server) int64 {
		p, _ := find(apiJSON(t, srv, "/api/v1/modules?kind=production", "Authorization", "Bearer "+token), "production", "", "mod_vcard")
		return p.Clusters
	}
	if a, b := users(stale), users(fresh); a != 6 || b != 6 {
		t.Fatalf("mod_vcard: %d and %d clusters, want 6", a, b)
	}
	report(t, st, store.Production, "cluster-new", 0, "6.2.1", event("module_with_opt", "module", "mod_vcard", "backend", "mnesia"))
	rollUp(t, st)
	if n := users(fresh); n != 7 {
		t.Errorf("without MaxStale: %d clusters after the roll-up, want 7", n)
	}
	if n := users(stale); n != 6 {
		t.Errorf("with MaxStale, the first request after the roll-up: %d clusters, want the previous 6", n)
	}
	deadline := time.Now().Add(30 * time.Second)
	for users(stale) != 7 {
		if time.Now().After(deadline) {
			t.Fatal("with MaxStale, the new count never came")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
