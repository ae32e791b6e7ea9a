// Package dashboard_test drives the receiver's dashboard in Debian's headless
// Chromium: every page against a store filled with the sidecar's real
// requests, numbers read from the DOM and compared with the API, filters,
// the public view's folding, hostile values, empty and broken states.
package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"golang.org/x/time/rate"

	"github.com/mim-metrics/mim-metrics/dashboard"
	"github.com/mim-metrics/mim-metrics/receiver"
	"github.com/mim-metrics/mim-metrics/reporting"
	"github.com/mim-metrics/mim-metrics/store"
	"github.com/mim-metrics/mim-metrics/test/testkit"
)

const adminToken = "test-admin-token-9f2c"

// browser is one headless Chromium and what its page reported.
type browser struct {
	ctx      context.Context
	mu       sync.Mutex
	problems []string // console errors, exceptions, dialogs
}

// startBrowser starts Debian's Chromium with exactly the flags the project
// allows and a fresh profile; it is killed when the test ends. Without
// chromium the test is skipped, except under CI=true, where it fails.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		path, err = exec.LookPath("/usr/bin/chromium")
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed (apt-get install chromium); the browser tests need it under CI=true")
		}
		t.Skip("chromium is not installed")
	}
	profile, err := os.MkdirTemp("", "mim-dashboard-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(profile),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		// Close the browser, then wait for its process (the allocator's
		// cancel kills it if it did not exit), then drop the profile.
		_ = chromedp.Cancel(ctx)
		cancel()
		cancelAlloc()
		_ = os.RemoveAll(profile)
	})
	b := &browser{ctx: ctx}
	// The first call starts the browser and must not carry a timeout (it
	// would end the browser with it): bound it from outside.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start chromium: %v", err)
		}
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("chromium did not start within 60 s")
	}
	if err := chromedp.Listen(ctx, b.listen); err != nil {
		t.Fatal(err)
	}
	return b
}

// listen records what must not happen on a page. It runs in the tab's
// message loop: it only records, and closes a dialog from a goroutine.
func (b *browser) listen(ev any) {
	var problem string
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		problem = "exception: " + ev.ExceptionDetails.Text
		if ev.ExceptionDetails.Exception != nil {
			problem += " " + ev.ExceptionDetails.Exception.Description
		}
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			problem = "console." + string(ev.Type)
			for _, a := range ev.Args {
				problem += " " + string(a.Value) + a.Description
			}
		}
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			problem = "browser log: " + ev.Entry.Text + " " + ev.Entry.URL
		}
	case *page.EventJavascriptDialogOpening:
		problem = "dialog opened: " + ev.Message
		go func() {
			_, _ = chromedp.Call(b.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}()
	}
	if problem != "" {
		b.mu.Lock()
		b.problems = append(b.problems, problem)
		b.mu.Unlock()
	}
}

// takeProblems returns and forgets what was recorded.
func (b *browser) takeProblems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.problems
	b.problems = nil
	return p
}

// open loads a URL and waits for the page, failing on any console error,
// exception or dialog.
func (b *browser) open(t *testing.T, u string) {
	t.Helper()
	b.openStatus(t, u, http.StatusOK)
}

// openStatus is open for a page answered with the given status: the
// browser's log entry for that status of that page is expected.
func (b *browser) openStatus(t *testing.T, u string, status int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(u), chromedp.WaitReady(chromedp.CSS("footer"))); err != nil {
		t.Fatalf("open %s: %v", u, err)
	}
	b.settleStatus(t, u, status)
}

// settle waits until the page's scripts ran, then checks the problems.
func (b *browser) settle(t *testing.T, what string) {
	t.Helper()
	b.settleStatus(t, what, http.StatusOK)
}

func (b *browser) settleStatus(t *testing.T, what string, status int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	// app.js hides the Apply button: proof the page's script ran.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.readyState === "complete"`)); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	expected := fmt.Sprintf("the server responded with a status of %d", status)
	for _, p := range b.takeProblems() {
		if status != http.StatusOK && strings.Contains(p, expected) && strings.HasSuffix(p, " "+what) {
			continue
		}
		t.Errorf("%s: %s", what, p)
	}
}

func eval[T any](t *testing.T, b *browser, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// screenshot writes the whole page as PNG into dir and logs the path.
func (b *browser) screenshot(t *testing.T, dir, name string) string {
	t.Helper()
	return b.shoot(t, dir, name, chromedp.FullScreenshot(100))
}

func (b *browser) shoot(t *testing.T, dir, name string, capture chromedp.Action[[]byte]) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, capture)
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	return path
}

// screenshotDir is where screenshots go: $MIM_DASHBOARD_SCREENSHOTS, or a
// new directory under the system's temp dir that outlives the test (look at
// them afterwards).
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("MIM_DASHBOARD_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	d, err := os.MkdirTemp("", "mim-dashboard-screenshots-")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// domPoint is a number as the page shows it (a table cell's attributes).
type domPoint struct {
	Chart, Series, Group, Label, Day, Clusters, Share, Sum, Hidden string
}

type apiPoint struct {
	Series   string  `json:"series"`
	Group    string  `json:"group"`
	Label    string  `json:"label"`
	Day      string  `json:"day"`
	Clusters int64   `json:"clusters"`
	Share    float64 `json:"share"`
	Sum      int64   `json:"sum"`
	Hidden   string  `json:"hidden"`
}

type apiChart struct {
	Chart  string     `json:"chart"`
	Series []string   `json:"series"`
	Points []apiPoint `json:"points"`
}

// readDOM collects the numbers of every chart: the table cells (a time
// table's series and label are on its column heading, its day on the row)
// or the bars.
func readDOM(t *testing.T, b *browser, selector string) []domPoint {
	t.Helper()
	return eval[[]domPoint](t, b, `Array.from(document.querySelectorAll(`+strconv.Quote(selector)+`)).map(e => {
		const th = e.tagName === "TD" ? e.closest("table").querySelectorAll("thead tr:last-child th")[e.cellIndex] : null;
		const d = Object.assign({}, th ? th.dataset : {}, e.tagName === "TD" ? e.parentElement.dataset : {}, e.dataset);
		return {Chart: e.closest("section[data-chart]").dataset.chart,
			Series: d.series || "", Group: d.group || "", Label: d.label || "", Day: d.day || "",
			Clusters: e.dataset.clusters ?? "", Share: e.dataset.share ?? "", Sum: e.dataset.sum ?? "", Hidden: e.dataset.hidden ?? ""};
	})`)
}

func getAPI(t *testing.T, base, chart string, q url.Values, admin bool) apiChart {
	t.Helper()
	req, err := http.NewRequest("GET", base+"/api/v1/"+chart+".json?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if admin {
		req.Header.Set("Authorization", "Bearer "+adminToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", req.URL, resp.Status)
	}
	var c apiChart
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

func pointKey(series, group, label, day string) string {
	return series + "|" + group + "|" + label + "|" + day
}

// compareWithAPI checks that every chart on the page shows exactly its
// API's points, and returns the API's charts.
func compareWithAPI(t *testing.T, b *browser, base string, q url.Values, admin bool) map[string]apiChart {
	t.Helper()
	cells := readDOM(t, b, "section[data-chart] td[data-clusters], section[data-chart] td[data-hidden]")
	bars := readDOM(t, b, "section[data-chart] rect.bar")
	charts := eval[[][2]string](t, b, `Array.from(document.querySelectorAll("section[data-chart]")).map(s => [s.dataset.chart, s.dataset.api])`)
	out := map[string]apiChart{}
	for _, ch := range charts {
		id := ch[0]
		// The API link of the chart must be the page's filter.
		link, err := url.Parse(ch[1])
		if err != nil || link.Path != "/api/v1/"+id+".json" {
			t.Errorf("%s: API link %q", id, ch[1])
			continue
		}
		lq := link.Query()
		for k := range q {
			if lq.Get(k) != q.Get(k) {
				t.Errorf("%s: API link %q has %s=%q, the page %q", id, ch[1], k, lq.Get(k), q.Get(k))
			}
		}
		api := getAPI(t, base, id, lq, admin)
		out[id] = api
		want := map[string]apiPoint{}
		for _, p := range api.Points {
			want[pointKey(p.Series, p.Group, p.Label, p.Day)] = p
		}
		seen := map[string]bool{}
		for _, c := range cells {
			if c.Chart != id {
				continue
			}
			k := pointKey(c.Series, c.Group, c.Label, c.Day)
			seen[k] = true
			p, ok := want[k]
			if !ok {
				t.Errorf("%s: the page shows %s, the API does not", id, k)
				continue
			}
			if c.Hidden != "" || p.Hidden != "" {
				if c.Hidden != p.Hidden || c.Clusters != "" {
					t.Errorf("%s %s: page hides %q (clusters %q), API %q", id, k, c.Hidden, c.Clusters, p.Hidden)
				}
				continue
			}
			// A time table gives the numbers its chart draws; a shares
			// table all three.
			if int64(f(t, c.Clusters)) != p.Clusters || (c.Share != "" && f(t, c.Share) != p.Share) || (c.Sum != "" && int64(f(t, c.Sum)) != p.Sum) {
				t.Errorf("%s %s: page %s/%s/%s, API %v/%v/%v", id, k, c.Clusters, c.Share, c.Sum, p.Clusters, p.Share, p.Sum)
			}
		}
		for k := range want {
			if !seen[k] {
				t.Errorf("%s: the API has %s, the page's table does not", id, k)
			}
		}
		for _, bar := range bars {
			if bar.Chart != id {
				continue
			}
			p, ok := want[pointKey(bar.Series, bar.Group, bar.Label, "")]
			if !ok || p.Hidden != "" || f(t, bar.Share) != p.Share || int64(f(t, bar.Clusters)) != p.Clusters {
				t.Errorf("%s: bar %+v does not match the API's %+v", id, bar, p)
			}
		}
	}
	return out
}

func f(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("number %q: %v", s, err)
	}
	return v
}

// testServer is a dashboard over a SQLite store filled with the data set.
type testServer struct {
	url      string
	st       store.Store
	clusters []cluster
	now      time.Time
}

// newFilledServer is the receiver as cmd/mim-metrics-receiver wires it
// (ingest paths, the dashboard at "/") over a SQLite store, filled with
// the sidecar's requests POSTed over HTTP; the receiver's clock is set to
// each day of the data set in turn.
func newFilledServer(t *testing.T) *testServer {
	t.Helper()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "dashboard.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Now().UTC()
	// The receiver's clock: at each report's time as it is posted.
	clock := testkit.NewManualClock[testkit.Timer](now)
	rc, err := receiver.New(receiver.Config{
		Store: st,
		Properties: []receiver.Property{
			{ID: prodID, Secret: prodSecret, Kind: store.Production},
			{ID: ciID, Secret: ciSecret, Kind: store.CI},
		},
		// Every simulated cluster sends from 127.0.0.1.
		MaxClustersPerAddress: 1000,
		AddressLimit:          receiver.Limit{Rate: rate.Inf, Burst: 1},
		Now:                   clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	rc.Register(mux)
	mux.Handle("/", dashboard.New(st, dashboard.Options{AdminToken: adminToken, Now: func() time.Time { return now }}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cs := fill(t, st, srv.URL, now, func(r reporting.Request, c cluster, received time.Time) {
		if c.Hostile {
			addBatch(t, st, r, c.Kind, received)
			return
		}
		clock.Set(received)
		post(t, r)
	})
	if err := rc.FlushCounts(ctx); err != nil {
		t.Fatal(err)
	}
	return &testServer{url: srv.URL, st: st, clusters: cs, now: now}
}

var pagePaths = []struct{ path, name string }{
	{"/", "modules"}, {"/clusters", "clusters"}, {"/shape", "shape"}, {"/features", "features"},
	{"/traffic", "traffic"}, {"/geography", "geography"}, {"/modules/mod_vcard", "module-vcard"},
	{"/features/transport/tcp", "feature-tcp"},
}

func TestDashboardInBrowser(t *testing.T) {
	b := startBrowser(t)
	srv := newFilledServer(t)
	shots := screenshotDir(t)
	t.Logf("screenshots in %s", shots)
	defaults := url.Values{"period": {"30"}, "kind": {"all"}, "version": {"*"}}

	t.Run("every page matches its API", func(t *testing.T) {
		for _, p := range pagePaths {
			b.open(t, srv.url+p.path)
			compareWithAPI(t, b, srv.url, defaults, false)
			b.screenshot(t, shots, "public-"+p.name)
			if p.path == "/" {
				// The window's view of the main page (docs/dashboard.png).
				b.shoot(t, shots, "main", chromedp.CaptureScreenshot())
			}
			// Long hostile labels must not widen the page.
			if over := eval[bool](t, b, `document.documentElement.scrollWidth > window.innerWidth + 2`); over {
				t.Errorf("%s: the page is wider than the window", p.path)
			}
		}
	})

	t.Run("every link keeps the filter, at both widths", func(t *testing.T) {
		want := url.Values{"period": {"90"}, "kind": {"production"}, "version": {"*"}}
		var start []string
		for _, p := range pagePaths {
			start = append(start, srv.url+p.path+"?"+want.Encode())
		}
		start = append(start, srv.url+"/methodology?"+want.Encode())
		for _, w := range widths {
			b.resize(t, w.width, w.height)
			checkLinks(t, b, srv, start, want, false)
		}
		b.resize(t, 1280, 900)
	})

	t.Run("phone and desktop layouts", func(t *testing.T) {
		for _, w := range widths {
			b.resize(t, w.width, w.height)
			for _, p := range pagePaths {
				b.open(t, srv.url+p.path)
				checkLayout(t, b, w.name+" "+p.path)
				if w.name == "phone" {
					b.screenshot(t, shots, "phone-"+p.name)
				}
			}
			b.open(t, srv.url+"/methodology")
			checkLayout(t, b, w.name+" /methodology")
		}
		b.resize(t, 1280, 900)
	})

	t.Run("keyboard and screen readers", func(t *testing.T) {
		b.open(t, srv.url+"/clusters")
		ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
			t.Fatal(err)
		}
		if got := eval[string](t, b, `document.activeElement.className + " " + document.activeElement.getAttribute("href") + " " + (document.activeElement.getBoundingClientRect().left >= 0)`); got != "skip #main true" {
			t.Errorf("the first Tab focuses %q, want the visible skip link to #main", got)
		}
		marks := eval[int](t, b, `Array.from(document.querySelectorAll(".mark")).filter(m => m.getClientRects().length && m.tabIndex === 0 && (m.getAttribute("aria-label") || "").includes(":")).length`)
		if marks == 0 {
			t.Errorf("no chart mark can be focused with its value announced")
		}
		focus := eval[string](t, b, `(() => { const m = Array.from(document.querySelectorAll(".mark")).find(m => m.getClientRects().length); const before = getComputedStyle(m).strokeWidth; m.focus(); return before + " " + getComputedStyle(m).strokeWidth + " " + (document.activeElement === m) + " " + document.getElementById("tooltip").textContent.includes(":"); })()`)
		if f := strings.Fields(focus); len(f) != 4 || f[0] == f[1] || f[2] != "true" || f[3] != "true" {
			t.Errorf("a focused mark (stroke before, after, focused, tooltip) %q: want a visible focus and its value shown", focus)
		}
		if !eval[bool](t, b, `document.querySelector("form.filters .apply").offsetParent !== null && !document.querySelector("form.filters .js-note").hidden`) {
			t.Errorf("the filters have no visible Apply, or do not say they apply on change")
		}
	})

	t.Run("gallery", func(t *testing.T) {
		// The README's pictures: MIM_DASHBOARD_GALLERY=docs rewrites them.
		dir := os.Getenv("MIM_DASHBOARD_GALLERY")
		if dir == "" {
			dir = shots
		}
		b.resize(t, 1366, 900)
		b.open(t, srv.url+"/?period=30")
		b.shoot(t, dir, "dashboard", chromedp.CaptureScreenshot())
		b.open(t, srv.url+"/modules/mod_vcard?period=30")
		b.shoot(t, dir, "dashboard-module", chromedp.CaptureScreenshot())
		b.open(t, srv.url+"/clusters?period=30&kind=production")
		b.shoot(t, dir, "dashboard-versions", chromedp.Screenshot(chromedp.CSS(`#chart-versions`)))
		b.resize(t, 390, 844)
		b.open(t, srv.url+"/clusters?period=30")
		b.shoot(t, dir, "dashboard-phone", chromedp.CaptureScreenshot())
		b.resize(t, 1280, 900)
	})

	t.Run("kind filter", func(t *testing.T) {
		b.open(t, srv.url+"/")
		ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
		defer cancel()
		// Choosing in the select submits the form (app.js); SetValue fires
		// the change event.
		if err := chromedp.Do(ctx,
			chromedp.SetValue(chromedp.CSS(`select[name="kind"]`), "production"),
		); err != nil {
			t.Fatal(err)
		}
		waitFor(t, b, `location.search.includes("kind=production") && document.readyState === "complete"`)
		b.settle(t, "kind=production")
		q := url.Values{"period": {"30"}, "kind": {"production"}, "version": {"*"}}
		compareWithAPI(t, b, srv.url, q, false)
		if n := eval[int](t, b, `document.querySelectorAll('[data-series="ci"]').length`); n != 0 {
			t.Errorf("%d CI numbers with kind=production", n)
		}
		if got, want := activeShown(t, b, "production"), expectedActive(srv, func(c cluster) bool { return c.Kind == store.Production }); got != want {
			t.Errorf("production clusters per day: page %v, want %v", got, want)
		}
	})

	t.Run("no public version filter", func(t *testing.T) {
		b.openStatus(t, srv.url+"/?version=6.2.1&kind=production", http.StatusNotFound)
		b.open(t, srv.url+"/")
		if n := eval[int](t, b, `document.querySelectorAll('select[name="version"]').length`); n != 0 {
			t.Errorf("the public page offers a version filter")
		}
	})

	t.Run("public folding", func(t *testing.T) {
		b.open(t, srv.url+"/clusters")
		api := compareWithAPI(t, b, srv.url, defaults, false)
		labels := map[string]bool{}
		for _, p := range api["versions"].Points {
			labels[p.Label] = true
		}
		if labels["3.5.0"] || labels["4.2.0"] || !labels["other"] || !labels["6.2.1"] {
			t.Errorf("public version labels %v: want 3.5.0 and 4.2.0 (fewer than 5 clusters) folded into other", labels)
		}
		text := eval[string](t, b, `document.querySelector("main").innerText + Array.from(document.querySelectorAll("option")).map(o => o.textContent).join(" ")`)
		for _, v := range []string{"3.5.0", "4.2.0"} {
			if strings.Contains(text, v) {
				t.Errorf("the public page names version %s (fewer than 5 clusters)", v)
			}
		}
		for _, c := range srv.clusters {
			if strings.Contains(text, c.ID) {
				t.Errorf("the public page shows client id %s", c.ID)
				break
			}
		}
	})

	// The hostile clusters' module name (SVG markup) and version are stored
	// as sent (addBatch), but the catalog's rules refuse them, so they state
	// no fact (contract.Summarize) and reach no page; how the dashboard
	// escapes whatever a value holds is tested in package dashboard.
	t.Run("hostile values reach no page", func(t *testing.T) {
		b.open(t, srv.url+"/")
		n := eval[int](t, b, `(document.documentElement.outerHTML.match(/svg onload/g) || []).length + (document.body.innerText.includes("<svg") ? 1 : 0)`)
		if n != 0 {
			t.Errorf("the hostile module name reached the page (%d times)", n)
		}
		if scripts := eval[int](t, b, `document.querySelectorAll("script").length`); scripts != 1 {
			t.Errorf("%d script elements, want only app.js", scripts)
		}
		if injected := eval[int](t, b, `document.querySelectorAll("[onload]").length`); injected != 0 {
			t.Errorf("%d elements with an onload attribute", injected)
		}
		b.screenshot(t, shots, "hostile")
	})

	t.Run("admin", func(t *testing.T) {
		b.openStatus(t, srv.url+"/admin", http.StatusUnauthorized)
		ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx,
			chromedp.SetValue(chromedp.CSS(`input[name="token"]`), adminToken),
			chromedp.Submit(chromedp.CSS(`form.login`)),
		); err != nil {
			t.Fatal(err)
		}
		waitFor(t, b, `document.querySelector("#clusters table") !== null`)
		b.settle(t, "admin")
		b.screenshot(t, shots, "admin")
		b.open(t, srv.url+"/clusters")
		api := compareWithAPI(t, b, srv.url, defaults, true)
		labels := map[string]bool{}
		for _, p := range api["versions"].Points {
			labels[p.Label] = true
		}
		if !labels["3.5.0"] || labels["other"] {
			t.Errorf("admin version labels %v: want everything unfolded", labels)
		}
		// The version filter, the admin's.
		b.open(t, srv.url+"/?version=6.2.1&kind=production")
		want := expectedActive(srv, func(c cluster) bool { return c.Kind == store.Production && c.Version == "6.2.1" })
		if got := activeShown(t, b, "production"); got != want {
			t.Errorf("6.2.1 clusters: page %v, want %v", got, want)
		}
		compareWithAPI(t, b, srv.url, url.Values{"period": {"30"}, "kind": {"production"}, "version": {"6.2.1"}}, true)
		if sel := eval[string](t, b, `document.querySelector('select[name="version"]').value`); sel != "6.2.1" {
			t.Errorf("the version select shows %q", sel)
		}
		b.open(t, srv.url+"/?version="+url.QueryEscape(hostileVersion))
		if opt := eval[string](t, b, `document.querySelector('select[name="version"]').selectedOptions[0].textContent`); opt != hostileVersion {
			t.Errorf("the version option reads %q", opt)
		}
		if injected := eval[int](t, b, `document.querySelectorAll("[onload]").length`); injected != 0 {
			t.Errorf("%d elements with an onload attribute", injected)
		}
		adminWant := url.Values{"period": {"90"}, "kind": {"production"}, "version": {"6.2.1"}}
		adminStart := []string{srv.url + "/admin?" + adminWant.Encode(), srv.url + "/clusters?" + adminWant.Encode(),
			srv.url + "/admin/cluster?id=" + url.QueryEscape(srv.clusters[0].ID) + "&" + adminWant.Encode()}
		for _, w := range widths {
			b.resize(t, w.width, w.height)
			checkLinks(t, b, srv, adminStart, adminWant, true)
			b.open(t, adminStart[0])
			checkLayout(t, b, w.name+" /admin")
		}
		b.resize(t, 1280, 900)
		b.open(t, srv.url+"/admin/cluster?id="+url.QueryEscape(srv.clusters[len(srv.clusters)-1].ID))
		if n := eval[int](t, b, `document.querySelectorAll("table.history tbody tr").length`); n == 0 {
			t.Errorf("the hostile cluster's history is empty")
		}
		b.screenshot(t, shots, "admin-cluster")
		ctx2, cancel2 := context.WithTimeout(b.ctx, 30*time.Second)
		defer cancel2()
		if err := chromedp.Do(ctx2, chromedp.Submit(chromedp.CSS(`form.logout`))); err != nil {
			t.Fatal(err)
		}
		waitFor(t, b, `document.querySelector("form.logout") === null && document.readyState === "complete"`)
	})

	t.Run("empty receiver", func(t *testing.T) {
		st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "empty.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		empty := httptest.NewServer(dashboard.New(st, dashboard.Options{}))
		defer empty.Close()
		b.open(t, empty.URL+"/")
		text := eval[string](t, b, `document.querySelector("#empty") ? document.querySelector("#empty").innerText : ""`)
		if !strings.Contains(text, "--receiver http://G-ID:SECRET@HOST:PORT") {
			t.Errorf("the empty state does not show the sidecar's flag: %q", text)
		}
		b.screenshot(t, shots, "empty")
	})

	t.Run("store down", func(t *testing.T) {
		st, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "down.db"))
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
		down := httptest.NewServer(dashboard.New(st, dashboard.Options{}))
		defer down.Close()
		resp, err := http.Get(down.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("store down: status %d, want 503", resp.StatusCode)
		}
		b.openStatus(t, down.URL+"/", http.StatusServiceUnavailable)
		if s := eval[string](t, b, `document.querySelector("[data-status]").dataset.status`); s != "503" {
			t.Errorf("error page status %q", s)
		}
	})
}

// waitFor polls a JavaScript condition, bounded.
func waitFor(t *testing.T, b *browser, cond string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		cancel()
		if err == nil && ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", cond)
}

// activeShown is the page's "clusters per day, averaged" for a series.
func activeShown(t *testing.T, b *browser, series string) int {
	t.Helper()
	return int(f(t, eval[string](t, b, fmt.Sprintf(`document.querySelector('[data-active=%q]').dataset.value`, series))))
}

// expectedActive is the distinct clusters keep selects that reported on
// some day of the last 30, from the data set itself.
func expectedActive(srv *testServer, keep func(cluster) bool) int {
	n := 0
	for _, c := range srv.clusters {
		for d := 0; d < historyDays && d < 30; d++ {
			if activeOn([]cluster{c}, d, keep) > 0 {
				n++
				break
			}
		}
	}
	return n
}
