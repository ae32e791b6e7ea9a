// Package truth checks the dashboard's numbers against a truth the test
// computes itself: a generated population of clusters (known modules,
// backends, versions and upgrades, nodes and per-node components, CI runs
// that report some days only, a lone distinctive cluster) is stored as
// their nodes' reports, rolled up, and every chart's numbers, in the admin
// and the public view, are compared with counts made from the population.
package truth

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/dashboard"
	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/receiver"
	"github.com/mim-metrics/mim-metrics/store"
	"github.com/mim-metrics/mim-metrics/test/pgtest"
	"github.com/mim-metrics/mim-metrics/test/testkit"
	"golang.org/x/time/rate"
)

var pg *pgtest.Server

func TestMain(m *testing.M) { pgtest.Main(m, &pg) }

const (
	token   = "truth-admin-token-0123456789"
	k       = 5
	history = 60 // days of reports, the last one today
)

var now = time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC) // a Thursday

func today() time.Time { return store.Day(now) }

func dayOf(daysAgo int) time.Time { return today().AddDate(0, 0, -daysAgo) }

// node is what one node of a cluster reports on a day.
type node struct {
	components int
}

// dayReport is what a cluster's nodes reported on one day.
type dayReport struct {
	version  string
	nodes    []node
	modules  map[string][]string // module -> backends
	stanzas  int64               // messages sent, per node
	hosts    int
	poolRDBM bool
}

// cluster is one generated cluster and what it reported, day by day
// (days ago -> report).
type cluster struct {
	id   string
	kind store.Kind
	days map[int]dayReport
}

// population makes the clusters, with a fixed seed.
func population() []cluster {
	rng := rand.New(rand.NewPCG(11, 12))
	var out []cluster
	add := func(kind store.Kind, n int, make func(i int) cluster) {
		for i := range n {
			c := make(i)
			c.kind = kind
			out = append(out, c)
		}
	}
	steady := func(id, version string, nodes []node, modules map[string][]string, from, to int) cluster {
		c := cluster{id: id, days: map[int]dayReport{}}
		for d := from; d >= to; d-- {
			c.days[d] = dayReport{version: version, nodes: nodes, modules: modules, stanzas: int64(100 + rng.IntN(50)), hosts: 1, poolRDBM: true}
		}
		return c
	}
	// Production: 6.5.0 clusters with mod_vcard on mnesia or rdbms.
	add(store.Production, 30, func(i int) cluster {
		be := "mnesia"
		if i%3 == 0 {
			be = "rdbms"
		}
		nodes := []node{{}}
		if i%4 == 0 { // three nodes, an external component on one of them
			nodes = []node{{components: 1}, {}, {}}
		}
		return steady(fmt.Sprintf("prod-650-%02d", i), "6.5.0", nodes,
			map[string][]string{"mod_vcard": {be}, "mod_mam": {"rdbms"}}, history-1, 0)
	})
	// Production: 6.3.1 clusters (they report TLS), eight upgrade to 6.5.0
	// 20 days ago; six of them run mod_vcard on LDAP.
	add(store.Production, 12, func(i int) cluster {
		c := steady(fmt.Sprintf("prod-631-%02d", i), "6.3.1", []node{{}, {}},
			map[string][]string{"mod_vcard": {"ldap"}, "mod_mam": {"rdbms"}}, history-1, 0)
		if i >= 6 {
			c.days = steady(c.id, "6.3.1", []node{{}, {}}, map[string][]string{"mod_mam": {"rdbms"}}, history-1, 0).days
		}
		if i < 8 {
			for d := 19; d >= 0; d-- {
				r := c.days[d]
				r.version = "6.5.0"
				c.days[d] = r
			}
		}
		if i < 4 { // a third node joins 10 days ago
			for d := 9; d >= 0; d-- {
				r := c.days[d]
				r.nodes = []node{{}, {}, {components: 2}}
				c.days[d] = r
			}
		}
		return c
	})
	// Production: three old 4.2.0 clusters (no domain count: too few to
	// say publicly how many), 40 to 25 days ago.
	add(store.Production, 3, func(i int) cluster {
		return steady(fmt.Sprintf("prod-420-%02d", i), "4.2.0", []node{{}},
			map[string][]string{"mod_mam": {"rdbms"}}, 40, 25)
	})
	// The lone cluster: a version of its own, mod_mam on elasticsearch,
	// a huge traffic, six nodes.
	add(store.Production, 1, func(i int) cluster {
		c := steady("prod-lone", "6.9.9-lone", []node{{}, {}, {}, {}, {}, {}},
			map[string][]string{"mod_mam": {"elasticsearch"}}, 10, 0)
		for d, r := range c.days {
			r.stanzas = 987_654_321
			c.days[d] = r
		}
		return c
	})
	// CI: runs that report on some days only (a fresh client id each).
	add(store.CI, 40, func(i int) cluster {
		c := cluster{id: fmt.Sprintf("ci-%02d", i), days: map[int]dayReport{}}
		for d := history - 1; d >= 0; d-- {
			if rng.IntN(4) == 0 {
				c.days[d] = dayReport{version: "6.5.0", nodes: []node{{}}, modules: map[string][]string{"mod_vcard": {"mnesia"}}, stanzas: 10, hosts: 1}
			}
		}
		if len(c.days) == 0 {
			c.days[0] = dayReport{version: "6.5.0", nodes: []node{{}}, modules: map[string][]string{"mod_vcard": {"mnesia"}}, stanzas: 10, hosts: 1}
		}
		return c
	})
	return out
}

func event(name string, kv ...any) contract.Event {
	p := map[string]any{}
	for i := 0; i < len(kv); i += 2 {
		v := kv[i+1]
		if n, ok := v.(int); ok {
			v = int64(n)
		}
		p[kv[i].(string)] = v
	}
	return contract.Event{Name: name, Params: p}
}

// batches are a cluster's nodes' reports of one day, as the receiver
// stores them: node-local components and stanza increments.
func batches(c cluster, daysAgo int, r dayReport) []store.Batch {
	var out []store.Batch
	for n, nd := range r.nodes {
		evs := []contract.Event{
			event("cluster", "uptime", "0000-01:00:00", "version", r.version, "component", nd.components, "node_number", len(r.nodes), "config_type", "toml"),
			event("host_count", "value", r.hosts),
			event("xmpp_stanza_count", "stanza_type", "xmppMessageSent", "total", 1_000_000_000, "increment", r.stanzas),
		}
		if !strings.HasPrefix(r.version, "4.") {
			evs = append(evs, event("domain_count", "value", 1))
		}
		if strings.HasPrefix(r.version, "6.3.") {
			evs = append(evs, event("tls_option", "mode", "starttls", "module", "fast_tls"))
		}
		if r.poolRDBM {
			evs = append(evs, event("outgoing_pool", "value", "rdbms"))
		}
		for m, bes := range r.modules {
			for _, be := range bes {
				evs = append(evs, event("module_with_opt", "module", m, "backend", be))
			}
		}
		property := "G-PROD"
		if c.kind == store.CI {
			property = "G-CI"
		}
		out = append(out, store.Batch{Received: dayOf(daysAgo).Add(time.Duration(1+n) * time.Hour), Property: property, Kind: c.kind,
			ClientID: c.id, Counted: true, Events: evs})
	}
	return out
}

// natAddress is the one address every CI run reports from (runners
// behind one NAT); each production cluster has an address of its own.
const natAddress = "198.19.0.1"

// load sends every node's report of every day to a receiver on st as GA4
// requests through a trusted proxy on loopback that names the sender's
// address, with the receiver's clock at the report's time; then rolls
// every day up. ciCap is the CI property's per-address cluster cap.
func load(t *testing.T, st store.Store, pop []cluster, ciCap int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	clock := testkit.NewManualClock[testkit.Timer](time.Time{})
	rc, err := receiver.New(receiver.Config{
		Store: st,
		Properties: []receiver.Property{
			{ID: "G-PROD", Secret: "prod-secret", Kind: store.Production},
			{ID: "G-CI", Secret: "ci-secret", Kind: store.CI},
		},
		TrustedProxies:          []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		MaxClustersPerAddressOf: map[string]int{"G-CI": ciCap},
		ClientLimit:             receiver.Limit{Rate: rate.Inf, Burst: 1},
		AddressLimit:            receiver.Limit{Rate: rate.Inf, Burst: 1},
		Now:                     clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	rc.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	// Day by day, oldest first, as the reports arrive.
	for d := history - 1; d >= 0; d-- {
		for i, c := range pop {
			r, ok := c.days[d]
			if !ok {
				continue
			}
			address := fmt.Sprintf("198.18.%d.%d", i/250, 1+i%250)
			if c.kind == store.CI {
				address = natAddress
			}
			for _, b := range batches(c, d, r) {
				clock.Set(b.Received)
				post(t, srv.URL, b, address)
			}
		}
	}
	if err := rc.FlushCounts(ctx); err != nil {
		t.Fatal(err)
	}
	testkit.RollUpAll(t, ctx, st)
}

// post sends one batch as a GA4 request from address.
func post(t *testing.T, base string, b store.Batch, address string) {
	t.Helper()
	secret := map[string]string{"G-PROD": "prod-secret", "G-CI": "ci-secret"}[b.Property]
	testkit.SendGA4(t, testkit.GA4Sender{Base: base, Property: b.Property, Secret: secret, Address: address}, b.ClientID, b.Events, b.Received)
}

type point struct {
	Series, Group, Label, Day string
	Clusters                  int64
	Share                     float64
	Sum                       int64
	Hidden                    string
	Partial                   bool
}

type base struct {
	Series, Group, Of     string
	Clusters, Active      int64
	NotReported           int64 `json:"not_reported"`
	Hidden                string
	NotReportedHiddenText string `json:"not_reported_hidden"`
}

type chart struct {
	Chart  string
	Unit   string
	Bases  []base
	Points []point
}

func getChart(t *testing.T, url string, admin bool) chart {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if admin {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	var c chart
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

// truth counts, from the population, what a period's charts must say.
type truth struct {
	active      map[store.Kind]int
	values      map[string]int // kind|dimension|value -> clusters
	notReported map[string]int // kind|dimension -> clusters
	users       map[string]int // kind|module -> clusters
}

func key(kind store.Kind, parts ...string) string {
	return string(kind) + "|" + strings.Join(parts, "|")
}

func before(v string, major, minor int) bool {
	var a, b, c int
	if n, _ := fmt.Sscanf(v, "%d.%d.%d", &a, &b, &c); n != 3 {
		return false
	}
	return a < major || a == major && b < minor
}

func countPeriod(pop []cluster, from, to int) truth {
	tr := truth{active: map[store.Kind]int{}, values: map[string]int{}, notReported: map[string]int{}, users: map[string]int{}}
	for _, c := range pop {
		seen := map[string]bool{}
		var versions []string
		largestNodes, largestComponents, active := 0, 0, false
		for d := from; d >= to; d-- {
			r, ok := c.days[d]
			if !ok {
				continue
			}
			active = true
			versions = append(versions, r.version)
			seen[key(c.kind, facts.Version, r.version)] = true
			largestNodes = max(largestNodes, len(r.nodes))
			for _, nd := range r.nodes {
				largestComponents = max(largestComponents, nd.components)
			}
			for m, bes := range r.modules {
				seen[key(c.kind, facts.Module, m)] = true
				for _, be := range bes {
					seen[key(c.kind, facts.ModuleBackend, m+"/"+be)] = true
				}
			}
			if strings.HasPrefix(r.version, "6.3.") {
				seen[key(c.kind, facts.TLS, "starttls/fast_tls")] = true
			}
		}
		if !active {
			continue
		}
		tr.active[c.kind]++
		for s := range seen {
			tr.values[s]++
			if parts := strings.Split(s, "|"); parts[1] == facts.Module {
				tr.users[key(c.kind, parts[2])]++
			}
		}
		tr.values[key(c.kind, facts.NodeNumber, fmt.Sprint(largestNodes))]++
		tr.values[key(c.kind, facts.Components, facts.ComponentsBucket(int64(largestComponents)))]++
		// TLS: only versions before 6.4 can report it; domains: 5.0 on.
		if !slices.ContainsFunc(versions, func(v string) bool { return before(v, 6, 4) || !strings.Contains(v, ".") }) {
			tr.notReported[key(c.kind, facts.TLS)]++
		}
		if !slices.ContainsFunc(versions, func(v string) bool { return !before(v, 5, 0) }) {
			tr.notReported[key(c.kind, facts.Domains)]++
		}
	}
	return tr
}

func find(c chart, series, group, label, day string) (point, bool) {
	for _, p := range c.Points {
		if p.Series == series && p.Group == group && p.Label == label && p.Day == day {
			return p, true
		}
	}
	return point{}, false
}

func findBase(c chart, series, group string) (base, bool) {
	for _, b := range c.Bases {
		if b.Series == series && b.Group == group {
			return b, true
		}
	}
	return base{}, false
}

func TestChartsEqualTheTruth(t *testing.T) {
	pop := population()
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			dsn := "sqlite:" + filepath.Join(t.TempDir(), "truth.db")
			if db == "postgres" {
				dsn = pg.NewDatabase(t)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			st, err := store.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			// The CI property's cap admits every run behind the NAT.
			load(t, st, pop, 1000)
			srv := httptest.NewServer(dashboard.New(st, dashboard.Options{AdminToken: token, MinClusters: k, Now: func() time.Time { return now }}))
			defer srv.Close()
			for _, period := range []int{30, 90} {
				tr := countPeriod(pop, min(period, history)-1, 0)
				checkAdmin(t, srv.URL, period, tr)
				checkPublic(t, srv.URL, period, tr)
			}
			checkDaily(t, srv.URL, pop)
			checkWeekly(t, srv.URL, pop)
			checkLone(t, srv.URL)
		})
	}
}

// checkAdmin: the admin sees every count exactly.
func checkAdmin(t *testing.T, url string, period int, tr truth) {
	q := fmt.Sprintf("?period=%d", period)
	for _, kind := range []store.Kind{store.Production, store.CI} {
		s := string(kind)
		mods := getChart(t, url+"/api/v1/modules"+q, true)
		for _, m := range []string{"mod_vcard", "mod_mam"} {
			p, _ := find(mods, s, "", m, "")
			if want := tr.values[key(kind, facts.Module, m)]; p.Clusters != int64(want) {
				t.Errorf("period %d %s %s: %d clusters, want %d", period, s, m, p.Clusters, want)
			}
		}
		if b, _ := findBase(mods, s, ""); b.Clusters != int64(tr.active[kind]) || b.Of != "active clusters" {
			t.Errorf("period %d %s modules base %+v, want %d active clusters", period, s, b, tr.active[kind])
		}
		be := getChart(t, url+"/api/v1/backends"+q, true)
		for _, m := range []string{"mod_vcard", "mod_mam"} {
			users := tr.users[key(kind, m)]
			if b, _ := findBase(be, s, m); b.Clusters != int64(users) {
				t.Errorf("period %d %s %s base %+v, want its %d users", period, s, m, b, users)
			}
			for _, backend := range []string{"mnesia", "rdbms", "ldap", "elasticsearch", "cassandra"} {
				p, ok := find(be, s, m, backend, "")
				want := tr.values[key(kind, facts.ModuleBackend, m+"/"+backend)]
				if !ok && want == 0 {
					continue
				}
				if p.Clusters != int64(want) || (users > 0 && p.Share != round4(float64(want)/float64(users))) {
					t.Errorf("period %d %s %s/%s: %+v, want %d of %d users", period, s, m, backend, p, want, users)
				}
			}
		}
		for _, c := range []struct{ chart, dim string }{{"nodes", facts.NodeNumber}, {"components", facts.Components}} {
			ch := getChart(t, url+"/api/v1/"+c.chart+q, true)
			var sum int64
			for _, p := range ch.Points {
				if p.Series != s {
					continue
				}
				sum += p.Clusters
				if want := tr.values[key(kind, c.dim, p.Label)]; p.Clusters != int64(want) {
					t.Errorf("period %d %s %s %s: %d, want %d", period, s, c.chart, p.Label, p.Clusters, want)
				}
			}
			if sum != int64(tr.active[kind]) {
				t.Errorf("period %d %s %s: buckets add up to %d, want the %d active clusters", period, s, c.chart, sum, tr.active[kind])
			}
		}
		for _, c := range []struct{ chart, dim string }{{"tls", facts.TLS}, {"domains", facts.Domains}} {
			ch := getChart(t, url+"/api/v1/"+c.chart+q, true)
			b, _ := findBase(ch, s, "")
			nr := tr.notReported[key(kind, c.dim)]
			if b.NotReported != int64(nr) || b.Clusters != int64(tr.active[kind]-nr) {
				t.Errorf("period %d %s %s base %+v: want %d not reported, %d that could report it", period, s, c.chart, b, nr, tr.active[kind]-nr)
			}
		}
		tls := getChart(t, url+"/api/v1/tls"+q, true)
		if p, _ := find(tls, s, "", "starttls/fast_tls", ""); kind == store.Production && p.Clusters != int64(tr.values[key(kind, facts.TLS, "starttls/fast_tls")]) {
			t.Errorf("period %d TLS starttls/fast_tls: %+v, want %d", period, p, tr.values[key(kind, facts.TLS, "starttls/fast_tls")])
		}
	}
}

// dimensionOf is the dimension a chart counts.
func dimensionOf(chart string) string {
	return map[string]string{"modules": facts.Module, "backends": facts.ModuleBackend, "nodes": facts.NodeNumber,
		"components": facts.Components, "tls": facts.TLS, "domains": facts.Domains, "pools": facts.Pool,
		"hosts": facts.Hosts, "stanza-volume": facts.StanzaVolume}[chart]
}

func round4(x float64) float64 { return float64(int64(x*10000+0.5)) / 10000 }

// checkPublic: every number shown publicly is the truth, and none is of
// fewer than k clusters (a known zero aside).
func checkPublic(t *testing.T, url string, period int, tr truth) {
	q := fmt.Sprintf("?period=%d", period)
	for _, id := range []string{"modules", "backends", "nodes", "components", "tls", "domains", "pools", "hosts", "stanza-volume"} {
		ch := getChart(t, url+"/api/v1/"+id+q, false)
		admin := getChart(t, url+"/api/v1/"+id+q, true)
		for _, p := range ch.Points {
			if p.Hidden != "" {
				if p.Clusters != 0 || p.Share != 0 || p.Sum != 0 {
					t.Errorf("period %d %s: hidden point %+v gives numbers", period, id, p)
				}
				continue
			}
			if p.Clusters > 0 && p.Clusters < k {
				t.Errorf("period %d %s: public point %+v is of fewer than %d clusters", period, id, p, k)
			}
			a, ok := find(admin, p.Series, p.Group, p.Label, p.Day)
			if !ok || a.Clusters != p.Clusters {
				t.Errorf("period %d %s: public %+v, admin %+v", period, id, p, a)
			}
			// The share is of the base the chart states, and that base is
			// the truth's.
			b, ok := findBase(ch, p.Series, p.Group)
			if ok && b.Clusters == 0 && p.Clusters == 0 {
				continue // a module nobody runs: its known backends at 0
			}
			if !ok || b.Hidden != "" || b.Clusters == 0 || p.Share != round4(float64(p.Clusters)/float64(b.Clusters)) {
				t.Errorf("period %d %s: public %+v is not a share of its base %+v", period, id, p, b)
				continue
			}
			kind := store.Kind(p.Series)
			var want int
			switch dim := dimensionOf(id); {
			case b.Of == "active clusters":
				want = tr.active[kind]
			case p.Group != "":
				want = tr.users[key(kind, p.Group)]
			default:
				want = tr.active[kind] - tr.notReported[key(kind, dim)]
			}
			if b.Clusters != int64(want) {
				t.Errorf("period %d %s: public base %+v, want %d clusters", period, id, b, want)
			}
		}
		for _, b := range ch.Bases {
			if b.Hidden == "" && b.Clusters > 0 && b.Clusters < k {
				t.Errorf("period %d %s: public base %+v of fewer than %d clusters", period, id, b, k)
			}
			if b.NotReported > 0 && b.NotReported < k {
				t.Errorf("period %d %s: public not reported %+v under %d", period, id, b, k)
			}
		}
	}
	// mod_vcard's LDAP: 6 clusters in 90 days (shown), and mod_mam's
	// elasticsearch, the lone cluster's (fewer than 5, by name).
	be := getChart(t, url+"/api/v1/backends"+q+"&kind=production", false)
	if p, ok := find(be, "production", "mod_mam", "elasticsearch", ""); !ok || p.Hidden != fmt.Sprintf("fewer than %d clusters", k) {
		t.Errorf("period %d: the lone cluster's backend is %+v (%v), want listed as fewer than %d", period, p, ok, k)
	}
	if p, _ := find(be, "production", "mod_vcard", "ldap", ""); p.Hidden == "" && p.Clusters != int64(tr.values[key(store.Production, facts.ModuleBackend, "mod_vcard/ldap")]) {
		t.Errorf("period %d: public LDAP %+v", period, p)
	}
}

// checkDaily: active clusters per day, new and returning, and stanzas per
// day, as the population says; today is partial.
func checkDaily(t *testing.T, url string, pop []cluster) {
	active := getChart(t, url+"/api/v1/active?period=90&kind=ci", true)
	stanzas := getChart(t, url+"/api/v1/stanzas?period=90&kind=ci", true)
	firstDay := map[string]int{}
	for _, c := range pop {
		for d := range c.days {
			firstDay[c.id] = max(firstDay[c.id], d)
		}
	}
	for d := history - 1; d >= 0; d-- {
		var newN, returning, sum int64
		for _, c := range pop {
			r, ok := c.days[d]
			if !ok || c.kind != store.CI {
				continue
			}
			if firstDay[c.id] == d {
				newN++
			} else {
				returning++
			}
			sum += r.stanzas * int64(len(r.nodes))
		}
		day := dayOf(d).Format(time.DateOnly)
		pn, _ := find(active, "ci", "", "new", day)
		pr, _ := find(active, "ci", "", "returning", day)
		if pn.Clusters != newN || pr.Clusters != returning || pn.Partial != (d == 0) {
			t.Errorf("ci on %s: new %+v returning %+v, want %d and %d", day, pn, pr, newN, returning)
		}
		if ps, _ := find(stanzas, "ci", "", "xmppMessageSent", day); ps.Sum != sum {
			t.Errorf("ci stanzas on %s: %+v, want a sum of %d", day, ps, sum)
		}
	}
	// Nothing drawn before the first report (90 days, 60 of history).
	for _, p := range active.Points {
		if p.Day < dayOf(history-1).Format(time.DateOnly) {
			t.Errorf("a point before the first report: %+v", p)
			break
		}
	}
	// Publicly, a day's new or returning under k is hidden.
	pub := getChart(t, url+"/api/v1/active?period=90&kind=ci", false)
	for _, p := range pub.Points {
		if p.Hidden == "" && p.Clusters > 0 && p.Clusters < k {
			t.Errorf("public %+v: under %d clusters", p, k)
		}
	}
}

// checkWeekly: each ISO week's distinct clusters per version, and per
// release line (a cluster that ran 6.5.0 and 6.5.1 in the week is one
// cluster of 6.5).
func checkWeekly(t *testing.T, url string, pop []cluster) {
	ch := getChart(t, url+"/api/v1/versions?period=90&kind=production", true)
	for _, p := range ch.Points {
		monday, _ := time.Parse(time.DateOnly, p.Day)
		if monday.Weekday() != time.Monday {
			t.Fatalf("week %s is not a Monday", p.Day)
		}
		var n, active int64
		for _, c := range pop {
			if c.kind != store.Production {
				continue
			}
			ran, any := false, false
			for d, r := range c.days {
				day := dayOf(d)
				if day.Before(monday) || !day.Before(monday.AddDate(0, 0, 7)) || day.Before(dayOf(89)) {
					continue
				}
				any = true
				// A release line's point (no group): any version of it.
				ran = ran || r.version == p.Label || p.Group == "" && strings.HasPrefix(r.version, p.Label+".")
			}
			if ran {
				n++
			}
			if any {
				active++
			}
		}
		if p.Clusters != n || (active > 0 && p.Share != round4(float64(n)/float64(active))) {
			t.Errorf("week of %s, %s: %+v, want %d of %d clusters", p.Day, p.Label, p, n, active)
		}
	}
}

// checkLone: the lone cluster's version and traffic appear nowhere in
// public.
func checkLone(t *testing.T, url string) {
	for _, path := range []string{"/api/v1/versions?period=30", "/api/v1/stanzas?period=30", "/api/v1/stanza-volume?period=30", "/api/v1/nodes?period=30",
		"/", "/clusters", "/traffic", "/shape", "/methodology"} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		resp.Body.Close()
		for _, secret := range []string{"6.9.9-lone", "987654321", "prod-lone"} {
			if strings.Contains(b.String(), secret) {
				t.Errorf("GET %s shows the lone cluster's %q", path, secret)
			}
		}
	}
}

// With the CI property at the default cap, CI runs behind the NAT count
// only up to the cap each day; the admin view says which ones were not
// counted on which day, and the charts count the others.
func TestNATCapCountsTheFirstClustersOfADay(t *testing.T) {
	pop := population()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "nat.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const capacity = receiver.DefaultMaxClustersPerAddress
	load(t, st, pop, capacity)
	// The truth: each day, the first CI runs to report (in the order they
	// were sent) count, the others do not.
	wantUncounted := map[string]int{}
	wantActive := map[string]int64{}
	for d := history - 1; d >= 0; d-- {
		n := 0
		for _, c := range pop {
			if _, ok := c.days[d]; ok && c.kind == store.CI {
				n++
			}
		}
		day := dayOf(d).Format(time.DateOnly)
		wantActive[day] = int64(min(n, capacity))
		if n > capacity {
			wantUncounted[day] = n - capacity
		}
	}
	uncounted, err := st.Uncounted(ctx, dayOf(history-1), today())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, u := range uncounted {
		if u.Property != "G-CI" {
			t.Errorf("uncounted %+v: only CI runs share an address", u)
		}
		got[u.Day.Format(time.DateOnly)]++
	}
	if fmt.Sprint(got) != fmt.Sprint(wantUncounted) {
		t.Errorf("clusters not counted per day:\n got %v\nwant %v", got, wantUncounted)
	}
	srv := httptest.NewServer(dashboard.New(st, dashboard.Options{AdminToken: token, MinClusters: k, Now: func() time.Time { return now }}))
	defer srv.Close()
	active := getChart(t, srv.URL+"/api/v1/active?period=90&kind=ci", true)
	for day, want := range wantActive {
		n, _ := find(active, "ci", "", "new", day)
		r, _ := find(active, "ci", "", "returning", day)
		if n.Clusters+r.Clusters != want {
			t.Errorf("CI on %s: %d clusters counted, want %d", day, n.Clusters+r.Clusters, want)
		}
	}
	req, _ := http.NewRequest("GET", srv.URL+"/admin?period=90", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for day, n := range wantUncounted {
		if !strings.Contains(string(page), fmt.Sprintf(`<td>%s</td><td>G-CI</td><td data-value="%d">`, day, n)) {
			t.Errorf("the admin page does not say %d CI clusters were not counted on %s", n, day)
			break
		}
	}
}
