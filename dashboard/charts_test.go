package dashboard

import (
	"net/url"
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

func hasPoint(c Chart, series, group, label string) bool {
	for _, p := range c.Points {
		if p.Series == series && p.Group == group && p.Label == label {
			return true
		}
	}
	return false
}

// indexRows indexes daily rows alone: the totals are those of the rows.
func indexRows(rows []store.RollupRow) *rollups { return indexRollups(rows, nil) }

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

// Two days with reports in the period: 10 and 6 production clusters, 4
// and 4 in CI.
func backendRows() []store.RollupRow {
	d1, d2 := daysAgo(3), daysAgo(1)
	return []store.RollupRow{
		row(d1, store.Production, facts.Clusters, "new", 4), row(d1, store.Production, facts.Clusters, "returning", 6),
		row(d2, store.Production, facts.Clusters, "returning", 6),
		row(d1, store.CI, facts.Clusters, "new", 4), row(d2, store.CI, facts.Clusters, "returning", 4),
		row(d1, store.Production, facts.ModuleBackend, "mod_vcard/mnesia", 8),
		row(d2, store.Production, facts.ModuleBackend, "mod_vcard/mnesia", 4),
		row(d1, store.Production, facts.ModuleBackend, "mod_vcard/rdbms", 2),
		row(d2, store.Production, facts.ModuleBackend, "mod_vcard/rdbms", 2),
		row(d1, store.CI, facts.ModuleBackend, "mod_vcard/ldap", 4),
		row(d2, store.CI, facts.ModuleBackend, "mod_vcard/ldap", 4),
		row(d1, store.Production, facts.ModuleBackend, "mod_sentinel_custom_7f3a/x", 1),
		row(d1, store.Production, facts.ModuleBackend, "mod_adhoc/none", 10),
	}
}

func TestBackendsSharesZerosAndFolding(t *testing.T) {
	def, _ := chartByID("backends")
	f := mustFilter(t, "")
	b := builder{rows: indexRows(backendRows()), f: f, fold: true, minClusters: 5}
	c := b.build(def)

	// Period values: 12 cluster-days of mnesia over 2 days with reports =
	// 6 per day; 16 active cluster-days: share 0.75.
	p := point(t, c, "production", "mod_vcard", "mnesia", "")
	if p.Clusters != 6 || p.Share != 0.75 {
		t.Errorf("mnesia %+v, want 6 clusters/day, share 0.75", p)
	}
	// ldap: nobody in production reported it: shown as zero, not left out.
	if p := point(t, c, "production", "mod_vcard", "ldap", ""); p.Clusters != 0 || p.Share != 0 {
		t.Errorf("production ldap %+v, want 0", p)
	}
	// rdbms never reached 5 clusters a day: folded into its module's other.
	if hasPoint(c, "production", "mod_vcard", "rdbms") {
		t.Errorf("rdbms (2 clusters) is shown publicly")
	}
	if p := point(t, c, "production", "mod_vcard", "other", ""); p.Clusters != 2 || p.Share != 0.25 {
		t.Errorf("mod_vcard other %+v, want 2 clusters/day", p)
	}
	// A module nobody knows, with one cluster: its name never shows.
	for _, p := range c.Points {
		if p.Group == "mod_sentinel_custom_7f3a" || p.Label == "x" {
			t.Errorf("a value of one cluster is shown: %+v", p)
		}
	}
	if p := point(t, c, "production", "other", "other", ""); p.Clusters != 0.5 {
		t.Errorf("other group %+v", p)
	}
	// A module without backends is left to the modules chart.
	if hasPoint(c, "production", "mod_adhoc", "none") {
		t.Errorf("mod_adhoc/none in the backends chart")
	}
	// CI: ldap 4 per day < 5: folded; mnesia shown as zero.
	if hasPoint(c, "ci", "mod_vcard", "ldap") || point(t, c, "ci", "mod_vcard", "mnesia", "").Share != 0 {
		t.Errorf("ci: %+v", c.Points)
	}
	if c.Folded["production"] != 2 || c.Folded["ci"] != 1 {
		t.Errorf("folded %v", c.Folded)
	}

	// Admin: nothing folded.
	b.fold = false
	c = b.build(def)
	if p := point(t, c, "production", "mod_vcard", "rdbms", ""); p.Clusters != 2 {
		t.Errorf("admin rdbms %+v", p)
	}
	if p := point(t, c, "production", "mod_sentinel_custom_7f3a", "x", ""); p.Clusters != 0.5 {
		t.Errorf("admin custom %+v", p)
	}
	if hasPoint(c, "production", "mod_vcard", "other") {
		t.Errorf("admin view has other")
	}
}

func TestActiveDailyAndKindFilter(t *testing.T) {
	def, _ := chartByID("active")
	f := mustFilter(t, "kind=production")
	b := builder{rows: indexRows(backendRows()), f: f, fold: true, minClusters: 5}
	c := b.build(def)
	if len(c.Series) != 1 || c.Series[0] != "production" {
		t.Fatalf("series %v", c.Series)
	}
	if len(c.Points) != 30*2 {
		t.Errorf("%d points, want a new and a returning point for each of 30 days", len(c.Points))
	}
	// new/returning are never folded, even below the threshold.
	if p := point(t, c, "production", "", "new", dayKey(daysAgo(3))); p.Clusters != 4 || p.Share != 0.4 {
		t.Errorf("new %+v", p)
	}
	if p := point(t, c, "production", "", "new", dayKey(daysAgo(2))); p.Clusters != 0 {
		t.Errorf("a day without reports %+v", p)
	}
}

func TestWeeklyVersions(t *testing.T) {
	// 2026-12-04 is a Friday: the last week starts on Monday 2026-11-30.
	mon := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	var rows []store.RollupRow
	for i := 0; i < 5; i++ {
		d := mon.AddDate(0, 0, i)
		rows = append(rows, row(d, store.Production, facts.Clusters, "returning", 10),
			row(d, store.Production, facts.Version, "6.2.1", 6), row(d, store.Production, facts.Version, "6.3.0", 4))
	}
	rows = append(rows, row(mon, store.Production, facts.Version, "<script>alert(1)</script>", 1))
	def, _ := chartByID("versions")
	b := builder{rows: indexRows(rows), f: mustFilter(t, "kind=production"), fold: true, minClusters: 5}
	c := b.build(def)
	if p := point(t, c, "production", "", "6.2.1", "2026-11-30"); p.Share != 0.6 || p.Clusters != 6 {
		t.Errorf("6.2.1 %+v", p)
	}
	// 6.3.0 (4 a day) and the script (1) are folded: 21 of 50.
	if p := point(t, c, "production", "", "other", "2026-11-30"); p.Share != 0.42 {
		t.Errorf("other %+v", p)
	}
	if p := point(t, c, "production", "", "6.2.1", "2026-11-23"); p.Share != 0 {
		t.Errorf("a week without reports %+v", p)
	}
	if got := weeks(mustFilter(t, "").days()); len(got) != 5 || len(got[4]) != 5 || got[4][0].Weekday() != time.Monday {
		t.Errorf("30 days from a Friday: %d weeks", len(got))
	}
}

func TestStanzaSums(t *testing.T) {
	d := daysAgo(0)
	rows := []store.RollupRow{
		row(d, store.Production, facts.Clusters, "returning", 6),
		{Day: d, Kind: store.Production, Version: "*", Dimension: facts.Stanza, Value: "xmppMessageSent", Clusters: 6, Sum: 1234},
	}
	def, _ := chartByID("stanzas")
	c := builder{rows: indexRows(rows), f: mustFilter(t, ""), fold: true, minClusters: 5}.build(def)
	if p := point(t, c, "production", "", "xmppMessageSent", dayKey(d)); p.Sum != 1234 || p.Clusters != 6 {
		t.Errorf("%+v", p)
	}
	if p := point(t, c, "production", "", "xmppIqSent", dayKey(d)); p.Sum != 0 {
		t.Errorf("known type not zero: %+v", p)
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
