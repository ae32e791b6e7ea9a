package collect_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/test/erltest"
)

const fixturesDir = "../fixtures"

// update rewrites the golden files: go test ./test/collect -run TestGenerations -update
var update = flag.Bool("update", false, "rewrite each generation's expected.json from its report")

// sentinels are the private names planted in the fixtures.
func sentinels(t testing.TB) []string {
	out, err := erltest.Sentinels(fixturesDir)
	if err != nil {
		t.Fatal(err)
	}
	return append(out, "sentinel", "7f3a")
}

var uptimeRE = regexp.MustCompile(`^\d{4,}-\d\d:\d\d:\d\d$`)

// normalized turns events into plain JSON values, with the uptime replaced
// by the golden files' placeholder.
func normalized(t testing.TB, evs []contract.Event) []any {
	t.Helper()
	b, err := json.Marshal(evs)
	if err != nil {
		t.Fatal(err)
	}
	var out []any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	for _, e := range out {
		m := e.(map[string]any)
		if m["name"] == contract.Cluster {
			p := m["params"].(map[string]any)
			if u, ok := p["uptime"].(string); ok && uptimeRE.MatchString(u) {
				p["uptime"] = "<uptime>"
			}
		}
	}
	return out
}

// checkCatalog fails on any event or param the catalog does not list.
func checkCatalog(t testing.TB, evs []contract.Event) {
	t.Helper()
	known := map[string]map[string]bool{}
	numeric := map[string]bool{} // "event.param"
	for _, s := range contract.Catalog() {
		known[s.Name] = map[string]bool{}
		for _, p := range s.Params {
			known[s.Name][p] = true
		}
		for _, p := range s.Numbers {
			numeric[s.Name+"."+p] = true
		}
	}
	for _, e := range evs {
		ps, ok := known[e.Name]
		if !ok {
			t.Errorf("event %s is not in contract.Catalog (and so not in the README)", e.Name)
			continue
		}
		for p, v := range e.Params {
			if !ps[p] {
				t.Errorf("param %s of %s is not in contract.Catalog", p, e.Name)
			}
			if _, isNumber := v.(int64); isNumber != numeric[e.Name+"."+p] {
				t.Errorf("param %s of %s is %T; contract.Catalog says numeric=%t", p, e.Name, v, numeric[e.Name+"."+p])
			}
		}
	}
}

// TestGenerations collects every MongooseIM generation's fixture and
// compares the report with the golden file written from the reference.
func TestGenerations(t *testing.T) {
	gens, err := erltest.Generations()
	if err != nil {
		t.Fatal(err)
	}
	sent := sentinels(t)
	for _, era := range gens {
		d := filepath.Join(fixturesDir, era)
		t.Run(era, func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(filepath.Join(d, "expected.json"))
			if err != nil {
				t.Fatal(err)
			}
			var want []any
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatalf("expected.json: %v", err)
			}
			n := erltest.StartFixtureT(t, era, erltest.Options{})
			reports, logs, _ := collectOnce(t, []string{n.Name}, n.Cookie, false)
			if len(reports) != 1 || reports[0].Err != nil {
				t.Fatalf("reports: %+v", reports)
			}
			r := reports[0]
			if r.Server != metrics.MongooseIM || !strings.HasPrefix(r.Version, strings.TrimPrefix(era, "mim-")) {
				t.Errorf("server %q version %q, want MongooseIM %s", r.Server, r.Version, era)
			}
			got := normalized(t, r.Events)
			if *update {
				if err := os.WriteFile(filepath.Join(d, "expected.json"), goldenJSON(t, r.Events), 0o644); err != nil {
					t.Fatal(err)
				}
				want = got
			}
			if !reflect.DeepEqual(got, want) {
				gb, _ := json.MarshalIndent(got, "", " ")
				t.Errorf("report differs from %s/expected.json; got:\n%s", era, gb)
			}
			for _, e := range logs.All() {
				t.Logf("warning: %s", e.Message)
			}
			if logs.Len() != 0 {
				t.Errorf("%d warnings for a well-formed fixture", logs.Len())
			}
			assertNoSentinel(t, era+" report", eventsJSON(r.Events), sent)
			checkCatalog(t, r.Events)
		})
	}
}

// goldenJSON writes events as the golden files hold them: one event a
// line, params in the catalog's order (handler names, whose values are
// all "enabled", in name order), the uptime replaced by "<uptime>".
func goldenJSON(t testing.TB, evs []contract.Event) []byte {
	t.Helper()
	order := map[string]map[string]int{}
	for _, s := range contract.Catalog() {
		order[s.Name] = map[string]int{}
		for i, p := range s.Params {
			order[s.Name][p] = i
		}
	}
	str := func(v any) string {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		return strings.TrimSuffix(b.String(), "\n")
	}
	var lines []string
	for _, e := range evs {
		keys := make([]string, 0, len(e.Params))
		flags := true
		for k, v := range e.Params {
			keys = append(keys, k)
			flags = flags && v == "enabled"
		}
		sort.Slice(keys, func(i, j int) bool {
			if flags {
				return keys[i] < keys[j]
			}
			return order[e.Name][keys[i]] < order[e.Name][keys[j]]
		})
		var ps []string
		for _, k := range keys {
			v := e.Params[k]
			if s, ok := v.(string); ok && e.Name == contract.Cluster && k == "uptime" && uptimeRE.MatchString(s) {
				v = "<uptime>"
			}
			ps = append(ps, fmt.Sprintf("%s: %s", str(k), str(v)))
		}
		lines = append(lines, fmt.Sprintf("  {\"name\": %s, \"params\": {%s}}", str(e.Name), strings.Join(ps, ", ")))
	}
	return []byte("[\n" + strings.Join(lines, ",\n") + "\n]\n")
}

// TestTwoNodeCluster: one report per node, node_number 2, and stanza
// increments kept per node.
func TestTwoNodeCluster(t *testing.T) {
	t.Parallel()
	a, _ := erltest.StartTwoNodesT(t, "mim-6.2.1", erltest.TwoNodes{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reports, _, col := collectOnce(t, []string{a.Name}, a.Cookie, true)
	if len(reports) != 2 {
		t.Fatalf("got %d reports, want one per node", len(reports))
	}
	for _, r := range reports {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		if cl := findEvents(r.Events, "cluster"); len(cl) != 1 || cl[0].Params["node_number"] != int64(2) {
			t.Errorf("%s: cluster %v, want node_number 2", r.Node, cl)
		}
	}
	if out, err := a.Eval(ctx, "fixture:bump(xmppMessageSent, 3)"); err != nil {
		t.Fatalf("bump: %v %s", err, out)
	}
	reports, err := col.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reports {
		want := int64(0)
		if r.Node == a.Name {
			want = 3
		}
		found := false
		for _, e := range findEvents(r.Events, "xmpp_stanza_count") {
			if e.Params["stanza_type"] == "xmppMessageSent" {
				found = true
				if e.Params["increment"] != want {
					t.Errorf("%s: xmppMessageSent increment %v, want %d (%v)", r.Node, e.Params["increment"], want, e.Params)
				}
			}
		}
		if !found {
			t.Errorf("%s: no xmppMessageSent event", r.Node)
		}
	}
}
