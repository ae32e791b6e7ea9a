package dashboard

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

var testToday = time.Date(2026, 12, 4, 15, 0, 0, 0, time.UTC)

// day returns the date n days before testToday.
func daysAgo(n int) time.Time { return store.Day(testToday).AddDate(0, 0, -n) }

func row(day time.Time, kind store.Kind, dim, value string, clusters int64) store.RollupRow {
	return store.RollupRow{Day: day, Kind: kind, Version: "*", Dimension: dim, Value: value, Clusters: clusters}
}

func mustFilter(t *testing.T, q string) filter {
	t.Helper()
	v, err := url.ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	f, err := parseFilter(v, testToday)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func point(t *testing.T, c Chart, series, group, label, day string) Point {
	t.Helper()
	for _, p := range c.Points {
		if p.Series == series && p.Group == group && p.Label == label && p.Day == day {
			return p
		}
	}
	t.Fatalf("chart %s has no point %s/%s/%s/%s; points: %+v", c.ID, series, group, label, day, c.Points)
	return Point{}
}

func TestParseFilter(t *testing.T) {
	f := mustFilter(t, "")
	if f.Days != 30 || f.Kind != "all" || f.Version != "*" {
		t.Errorf("defaults: %+v", f)
	}
	if !f.To.Equal(daysAgo(0)) || !f.From.Equal(daysAgo(29)) || len(f.days()) != 30 {
		t.Errorf("period %v..%v, %d days", f.From, f.To, len(f.days()))
	}
	f = mustFilter(t, "period=365&kind=ci&version=6.2.1")
	if f.Days != 365 || len(f.series()) != 1 || f.series()[0] != store.CI || f.Version != "6.2.1" {
		t.Errorf("got %+v", f)
	}
	if q := f.query(facts.Module); q.Kind != store.CI || q.Version != "6.2.1" || len(q.Dimensions) != 1 || q.Dimensions[0] != facts.Module {
		t.Errorf("query %+v", q)
	}
	for _, bad := range []string{"period=31", "period=x", "kind=staging"} {
		v, _ := url.ParseQuery(bad)
		if _, err := parseFilter(v, testToday); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{{"6.10.0", "6.2.1", 1}, {"6.2.1", "6.2.1", 0}, {"3.7.0", "4.0.1", -1}, {"6.2.1-5-gabc", "6.2.1", 1}} {
		if got := compareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("compare(%s, %s) = %d", tc.a, tc.b, got)
		}
	}
}

// runSet makes a run set: each cluster reports one profile on days
// [from, to] days ago.
type fakeCluster struct {
	id       string
	kind     store.Kind
	from, to int
	facts    []facts.Fact
}

func runSet(clusters ...fakeCluster) store.RunSet {
	set := store.RunSet{Profiles: map[int64][]facts.Fact{}}
	for i, c := range clusters {
		id := int64(i + 1)
		set.Profiles[id] = c.facts
		set.Runs = append(set.Runs, store.Run{Property: "P", ClientID: c.id, Kind: c.kind, First: daysAgo(c.from), Last: daysAgo(c.to), Profile: id})
	}
	slices.SortStableFunc(set.Runs, func(a, b store.Run) int { return strings.Compare(a.ClientID, b.ClientID) })
	return set
}

func factsOf(kv ...string) []facts.Fact {
	var out []facts.Fact
	for i := 0; i < len(kv); i += 2 {
		out = append(out, facts.Fact{Dimension: kv[i], Value: kv[i+1]})
	}
	return out
}

func buildChart(t *testing.T, set store.RunSet, q, id string, hide bool) Chart {
	t.Helper()
	def := builtin(t, id)
	f := mustFilter(t, q)
	in := newPageInput(f, testToday, set, nil, []ChartDef{def}, 3)
	return builder{in: in, hide: hide, k: 3}.build(def)
}

// builtin is the built-in chart of id.
func builtin(t *testing.T, id string) ChartDef {
	t.Helper()
	def, ok := findChart(builtinCharts, id)
	if !ok {
		t.Fatalf("no chart %s", id)
	}
	return def
}

func baseOf(t *testing.T, c Chart, series, group string) Base {
	t.Helper()
	for _, b := range c.Bases {
		if b.Series == series && b.Group == group {
			return b
		}
	}
	t.Fatalf("chart %s has no base %s/%s: %+v", c.ID, series, group, c.Bases)
	return Base{}
}

// TLS: 6.4.0 and later cannot report it, so they are "not reported" and
// the shares are of the clusters that could; a cluster reporting on some
// days only counts once, as do two nodes with two backends of one module.
func TestSharesOfWhatCouldBeReported(t *testing.T) {
	var cs []fakeCluster
	for i := range 8 { // 8 on 6.3.1, 5 of them with TLS
		f := factsOf(facts.Version, "6.3.1", facts.Module, "mod_vcard", facts.ModuleBackend, "mod_vcard/rdbms")
		if i < 5 {
			f = append(f, facts.Fact{Dimension: facts.TLS, Value: "tls/fast_tls"})
		}
		if i == 0 { // also LDAP: counts under both backends
			f = append(f, facts.Fact{Dimension: facts.ModuleBackend, Value: "mod_vcard/ldap"})
		}
		cs = append(cs, fakeCluster{id: fmt.Sprint("a", i), kind: store.Production, from: 20, to: 10 + i, facts: f})
	}
	for i := range 4 { // 4 on 6.5.0
		cs = append(cs, fakeCluster{id: fmt.Sprint("b", i), kind: store.Production, from: 5, to: 0, facts: factsOf(facts.Version, "6.5.0")})
	}
	set := runSet(cs...)
	tls := buildChart(t, set, "kind=production", "tls", false)
	if b := baseOf(t, tls, "production", ""); b.Clusters != 8 || b.Active != 12 || b.NotReported != 4 || b.Of != "clusters that could report it" {
		t.Errorf("TLS base %+v: want 8 that could report it, 4 of 12 not reported", b)
	}
	if p := point(t, tls, "production", "", "tls/fast_tls", ""); p.Clusters != 5 || p.Share != 0.625 {
		t.Errorf("tls/fast_tls %+v: want 5 clusters, 62.5 %% of 8", p)
	}
	be := buildChart(t, set, "kind=production", "backends", false)
	if b := baseOf(t, be, "production", "mod_vcard"); b.Clusters != 8 {
		t.Errorf("mod_vcard's base %+v, want its 8 users", b)
	}
	if p := point(t, be, "production", "mod_vcard", "rdbms", ""); p.Clusters != 8 || p.Share != 1 {
		t.Errorf("rdbms %+v: want all 8 users", p)
	}
	if p := point(t, be, "production", "mod_vcard", "ldap", ""); p.Clusters != 1 || p.Share != 0.125 {
		t.Errorf("ldap %+v: want 1 of 8 users", p)
	}
	// Public (K=3): LDAP's one cluster is not shown, nor can it be worked
	// out from rdbms's 8 of 8 (withheld).
	pub := buildChart(t, set, "kind=production", "backends", true)
	if p := point(t, pub, "production", "mod_vcard", "ldap", ""); p.Hidden != "fewer than 3 clusters" || p.Clusters != 0 {
		t.Errorf("public ldap %+v", p)
	}
	if p := point(t, pub, "production", "mod_vcard", "rdbms", ""); p.Hidden == "" {
		t.Errorf("public rdbms %+v: shown beside a rare LDAP in a table that adds up to 8", p)
	}
}

// A bucketed value counts a cluster once, under its largest value of the
// period: the buckets add up to the clusters that reported it.
func TestBucketsAddUpToTheirBase(t *testing.T) {
	set := runSet(
		fakeCluster{id: "x", kind: store.CI, from: 9, to: 5, facts: factsOf(facts.Version, "6.5.0", facts.NodeNumber, "2")},
		fakeCluster{id: "x", kind: store.CI, from: 3, to: 3, facts: factsOf(facts.Version, "6.5.0", facts.NodeNumber, "3")},
		fakeCluster{id: "y", kind: store.CI, from: 2, to: 0, facts: factsOf(facts.Version, "6.5.0", facts.NodeNumber, "1")},
		fakeCluster{id: "z", kind: store.CI, from: 40, to: 35, facts: factsOf(facts.Version, "6.5.0", facts.NodeNumber, "1")}, // before the period
	)
	c := buildChart(t, set, "kind=ci", "nodes", false)
	var sum int64
	for _, p := range c.Points {
		sum += p.Clusters
	}
	if sum != 2 || point(t, c, "ci", "", "3", "").Clusters != 1 || point(t, c, "ci", "", "2", "").Clusters != 0 {
		t.Errorf("nodes: %d clusters in all (want 2: x under 3, y under 1); points %+v", sum, c.Points)
	}
	if point(t, c, "ci", "", "0", "").Label != "0" {
		t.Errorf("the bucket 0 is not drawn first")
	}
}

// Weeks are ISO weeks labelled by their Monday; the current one is partial
// and none is drawn before the first report.
func TestWeeksMondaysPartialAndFirstReport(t *testing.T) {
	set := runSet(fakeCluster{id: "x", kind: store.Production, from: 12, to: 0, facts: factsOf(facts.Version, "6.5.0")})
	c := buildChart(t, set, "kind=production&period=90", "versions", false)
	days := map[string]bool{}
	for _, p := range c.Points {
		d, _ := time.Parse(time.DateOnly, p.Day)
		if d.Weekday() != time.Monday {
			t.Errorf("week %s is not a Monday", p.Day)
		}
		if d.Before(daysAgo(12).AddDate(0, 0, -6)) {
			t.Errorf("week %s drawn before the first report (%s)", p.Day, dayKey(daysAgo(12)))
		}
		days[p.Day] = p.Partial
	}
	thisMonday := dayKey(daysAgo(0).AddDate(0, 0, -((int(daysAgo(0).Weekday()) + 6) % 7)))
	if partial, ok := days[thisMonday]; !ok || !partial {
		t.Errorf("this week (%s): present %v, partial %v", thisMonday, ok, partial)
	}
	if len(days) < 2 || len(days) > 3 {
		t.Errorf("%d weeks drawn for 13 days of reports", len(days))
	}
}

func hasPoint(c Chart, series, group, label string) bool {
	for _, p := range c.Points {
		if p.Series == series && p.Group == group && p.Label == label {
			return true
		}
	}
	return false
}
