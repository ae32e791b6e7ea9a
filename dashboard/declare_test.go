package dashboard_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/dashboard"
	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

// A dimension no package knows yet: a metric's facts are in the store's
// runs and roll-ups before any spec of it exists.
const queueDim = "max_fsm_queue"

// queueCluster reports a made-up dimension's values, one profile per run.
type queueCluster struct {
	id   string
	kind store.Kind
	// runs: days ago (from, to) and the run's values of queueDim (none:
	// the cluster's version cannot report it).
	runs []queueRun
}

type queueRun struct {
	from, to int
	values   []string
}

// queueClusters: production clusters of three values (one cluster moves
// from "0" to "1-10" during the period: it counts under both), a value of
// two clusters (under K), clusters that state no value, a rare CI series,
// and a run before the period.
func queueClusters() []queueCluster {
	var cs []queueCluster
	add := func(id string, kind store.Kind, runs ...queueRun) {
		cs = append(cs, queueCluster{id: id, kind: kind, runs: runs})
	}
	for i := range 7 {
		add(fmt.Sprint("zero-", i), store.Production, queueRun{20, 0, []string{"0"}})
	}
	add("mover", store.Production, queueRun{25, 11, []string{"0"}}, queueRun{10, 0, []string{"1-10"}})
	for i := range 5 {
		add(fmt.Sprint("some-", i), store.Production, queueRun{15, 2, []string{"1-10"}})
	}
	add("busy-0", store.Production, queueRun{9, 0, []string{"11+"}})
	add("busy-1", store.Production, queueRun{9, 3, []string{"11+", "1-10"}}) // two nodes, two values
	for i := range 3 {
		add(fmt.Sprint("old-", i), store.Production, queueRun{12, 0, nil})
	}
	add("ci-0", store.CI, queueRun{5, 0, []string{"0"}})
	add("ci-1", store.CI, queueRun{5, 0, []string{"0"}})
	add("gone", store.Production, queueRun{60, 40, []string{"11+"}}) // before the 30 days
	return cs
}

// loadQueue writes the clusters' runs and the daily roll-ups the receiver
// would have computed from them (distinct clusters per value and day, new
// and returning).
func loadQueue(t *testing.T, st store.Store, cs []queueCluster) {
	t.Helper()
	today := store.Day(now)
	var runs []store.LoadedRun
	counts := map[store.RollupRow]int64{} // keyed with Clusters zero
	for _, c := range cs {
		first := c.runs[0].from
		for _, r := range c.runs {
			fs := []facts.Fact{{Dimension: facts.Version, Value: "6.5.0"}}
			for _, v := range r.values {
				fs = append(fs, facts.Fact{Dimension: queueDim, Value: v})
			}
			runs = append(runs, store.LoadedRun{Property: "G-" + string(c.kind), ClientID: c.id, Kind: c.kind,
				First: today.AddDate(0, 0, -r.from), Last: today.AddDate(0, 0, -r.to), Facts: facts.CombineDay(fs)})
			for d := r.from; d >= r.to; d-- {
				day := today.AddDate(0, 0, -d)
				age := facts.ClustersReturning
				if d == first {
					age = facts.ClustersNew
				}
				counts[store.RollupRow{Day: day, Kind: c.kind, Version: facts.AllVersions, Dimension: facts.Clusters, Value: age}]++
				for _, v := range r.values {
					counts[store.RollupRow{Day: day, Kind: c.kind, Version: facts.AllVersions, Dimension: queueDim, Value: v}]++
				}
			}
		}
	}
	var rows []store.RollupRow
	for k, n := range counts {
		k.Clusters = n
		rows = append(rows, k)
	}
	if err := store.LoadRuns(ctxT(t), st, runs); err != nil {
		t.Fatal(err)
	}
	if err := store.LoadRollups(ctxT(t), st, rows); err != nil {
		t.Fatal(err)
	}
}

// queueTruth counts, from the clusters themselves, each kind's distinct
// clusters of each value over the days [from, to] ago, and the active ones.
func queueTruth(cs []queueCluster, from, to int) (values map[store.Kind]map[string]int64, active, stated map[store.Kind]int64) {
	values = map[store.Kind]map[string]int64{}
	active, stated = map[store.Kind]int64{}, map[store.Kind]int64{}
	for _, c := range cs {
		seen := map[string]bool{}
		isActive, hasValue := false, false
		for _, r := range c.runs {
			if r.to > from || r.from < to {
				continue // no day of the run in [from, to] days ago
			}
			isActive = true
			for _, v := range r.values {
				hasValue = true
				if !seen[v] {
					seen[v] = true
					if values[c.kind] == nil {
						values[c.kind] = map[string]int64{}
					}
					values[c.kind][v]++
				}
			}
		}
		if isActive {
			active[c.kind]++
		}
		if hasValue {
			stated[c.kind]++
		}
	}
	return values, active, stated
}

// apiChart is a chart of the API as a client reads it.
type apiChart struct {
	Chart  string  `json:"chart"`
	Title  string  `json:"title"`
	Type   string  `json:"type"`
	Unit   string  `json:"unit"`
	Points []point `json:"points"`
	Bases  []struct {
		Series            string `json:"series"`
		Of                string `json:"of"`
		Clusters          int64  `json:"clusters"`
		Active            int64  `json:"active"`
		NotReported       int64  `json:"not_reported"`
		Hidden            string `json:"hidden"`
		NotReportedHidden string `json:"not_reported_hidden"`
	} `json:"bases"`
}

func getChart(t *testing.T, url string, header ...string) apiChart {
	t.Helper()
	code, _, body := get(t, url, header...)
	if code != 200 {
		t.Fatalf("GET %s: %d %s", url, code, body)
	}
	var c apiChart
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAddedChartOfANewDimension declares two charts of a dimension no
// package knows (Options.Charts: the way a new metric reaches the
// dashboard) and reads their numbers from the API: the admin's equal the
// clusters the test counts itself, the public ones go through the same
// rule (K, "not reported") as the built-in charts'.
func TestAddedChartOfANewDimension(t *testing.T) {
	shares := dashboard.ChartDef{ID: "fsm-queue", Page: dashboard.ShapePage, Title: "Longest FSM queue", Dimension: queueDim,
		Kind: dashboard.Shares, Known: []string{"0", "1-10", "11+"}, About: "The longest queue any node saw."}
	daily := dashboard.ChartDef{ID: "fsm-queue-daily", Page: dashboard.ShapePage, Title: "Longest FSM queue per day", Dimension: queueDim,
		Kind: dashboard.Daily, Known: []string{"0", "1-10", "11+"}, Unit: "clusters per day"}
	cs := queueClusters()
	forEachStore(t, func(t *testing.T, st store.Store) {
		loadQueue(t, st, cs)
		srv := server(t, st, dashboard.Options{AdminToken: token, Charts: []dashboard.ChartDef{shares, daily}})
		admin := []string{"Authorization", "Bearer " + token}

		// The period's shares, as the admin sees them: every count.
		values, active, stated := queueTruth(cs, 29, 0)
		c := getChart(t, srv.URL+"/api/v1/fsm-queue.json", admin...)
		if c.Title != shares.Title || c.Type != "shares" {
			t.Errorf("chart %q of type %q", c.Title, c.Type)
		}
		for _, kind := range []store.Kind{store.Production, store.CI} {
			for _, v := range shares.Known {
				p, ok := find(chart{Points: c.Points}, string(kind), "", v)
				want := values[kind][v]
				if !ok || p.Clusters != want || p.Share != round4(float64(want)/float64(stated[kind])) || p.Hidden != "" {
					t.Errorf("admin %s %s: %+v %v, want %d of %d clusters that stated a value", kind, v, p, ok, want, stated[kind])
				}
			}
		}
		for _, b := range c.Bases {
			kind := store.Kind(b.Series)
			if b.Clusters != stated[kind] || b.Active != active[kind] || b.NotReported != active[kind]-stated[kind] {
				t.Errorf("admin base %+v: want %d of %d active, %d not reported", b, stated[kind], active[kind], active[kind]-stated[kind])
			}
		}
		if active[store.Production]-stated[store.Production] == 0 || values[store.Production]["11+"] >= 5 {
			t.Fatal("the data has no 'not reported' or no rare value: the test checks nothing")
		}

		// Public (K = 5): the rare value is "fewer than 5", the rest of the
		// table is withheld as far as the rule says; the CI series' 2
		// clusters are not shown at all.
		pub := getChart(t, srv.URL+"/api/v1/fsm-queue.json")
		for _, p := range pub.Points {
			n := values[store.Kind(p.Series)][p.Label]
			if p.Hidden == "" && (n > 0 && n < 5 || p.Clusters != n) {
				t.Errorf("public %+v: %d clusters shown as %d", p, n, p.Clusters)
			}
			if p.Hidden != "" && p.Clusters != 0 {
				t.Errorf("public %+v: a hidden point with a number", p)
			}
		}
		if p, _ := find(chart{Points: pub.Points}, "production", "", "11+"); p.Hidden != "fewer than 5 clusters" {
			t.Errorf("public 11+ of %d clusters: %+v", values[store.Production]["11+"], p)
		}
		for _, b := range pub.Bases {
			if b.Series == "ci" && (b.Hidden == "" || b.Clusters != 0) {
				t.Errorf("public CI base of %d clusters: %+v", active[store.CI], b)
			}
			if b.Series == "production" && b.NotReported != active[store.Production]-stated[store.Production] && b.NotReportedHidden == "" {
				t.Errorf("public production base %+v: the 'not reported' neither shown nor hidden", b)
			}
		}

		// Per day, from the roll-ups: each value's clusters of the day and
		// their share of the day's active ones.
		d := getChart(t, srv.URL+"/api/v1/fsm-queue-daily.json?kind=production", admin...)
		if d.Type != "daily" || d.Unit != "clusters per day" {
			t.Errorf("daily chart: type %q, unit %q", d.Type, d.Unit)
		}
		checked := 0
		for ago := 0; ago < 26; ago++ {
			day := store.Day(now).AddDate(0, 0, -ago).Format(time.DateOnly)
			dayValues, dayActive, _ := queueTruth(cs, ago, ago)
			for _, v := range daily.Known {
				p, ok := findDay(d.Points, "production", v, day)
				want := dayValues[store.Production][v]
				if !ok || p.Clusters != want || p.Share != round4(float64(want)/float64(dayActive[store.Production])) {
					t.Errorf("admin %s %s: %+v %v, want %d of %d active", day, v, p, ok, want, dayActive[store.Production])
				}
				checked++
			}
		}
		if checked == 0 {
			t.Fatal("no day checked")
		}
		for _, p := range getChart(t, srv.URL+"/api/v1/fsm-queue-daily.json?kind=production").Points {
			if p.Hidden == "" && p.Clusters > 0 && p.Clusters < 5 {
				t.Errorf("public daily %+v: fewer than 5 clusters shown", p)
			}
		}

		// Drawn on its page after the page's own charts, listed by the
		// index, explained on the methodology page.
		_, _, page := get(t, srv.URL+"/shape")
		own, added := strings.Index(page, `id="chart-components"`), strings.Index(page, `id="chart-fsm-queue"`)
		if own < 0 || added < own || !strings.Contains(page, `id="chart-fsm-queue-daily"`) || !strings.Contains(page, shares.About) {
			t.Errorf("/shape does not draw the added charts after its own")
		}
		if _, _, index := get(t, srv.URL+"/api/v1/"); !strings.Contains(index, `"/api/v1/fsm-queue.json"`) {
			t.Errorf("the API index does not list the added chart")
		}
		if _, _, m := get(t, srv.URL+"/methodology"); !strings.Contains(m, `id="chart-fsm-queue"`) {
			t.Errorf("the methodology page does not explain the added chart")
		}
		if code, _, _ := get(t, srv.URL+"/api/v1/fsm-queue-weekly.json"); code != 404 {
			t.Errorf("an undeclared chart: %d, want 404", code)
		}
	})
}

// A declaration's defect (a taken ID, no page, no kind, an ID that is no
// URL segment) stops New with a message naming the chart.
func TestBadChartDeclarations(t *testing.T) {
	good := dashboard.ChartDef{ID: "fsm-queue", Page: dashboard.ShapePage, Title: "Queue", Dimension: queueDim, Kind: dashboard.Shares}
	taken, noPage, noKind, slash := good, good, good, good
	taken.ID = "modules"
	slash.ID = "fsm/queue.json"
	noPage.Page = "/nowhere"
	noKind.Kind = nil
	for _, bad := range []dashboard.ChartDef{taken, noPage, noKind, slash} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), bad.ID) {
					t.Errorf("New with %+v: %v, want a panic naming %q", bad, r, bad.ID)
				}
			}()
			dashboard.New(nil, dashboard.Options{Charts: []dashboard.ChartDef{bad}})
		}()
	}
}

func findDay(pts []point, series, label, day string) (point, bool) {
	for _, p := range pts {
		if p.Series == series && p.Label == label && p.Day == day {
			return p, true
		}
	}
	return point{}, false
}
