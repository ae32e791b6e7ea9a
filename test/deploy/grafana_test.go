package deploy_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/inventory"
	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/observe"
	"github.com/mim-metrics/mim-metrics/reporting"
)

// oneNode is a source with one collected node: the exporter's input.
type oneNode struct{}

func (oneNode) Collect(context.Context) ([]metrics.NodeReport, error) {
	return []metrics.NodeReport{{Node: "a@h", Server: metrics.MongooseIM, Version: "6.4.0", OTP: "25", Events: []contract.Event{
		{Name: contract.HostCount, Params: map[string]any{"value": int64(1)}},
		{Name: contract.DomainCount, Params: map[string]any{"value": int64(1)}},
		{Name: contract.ModuleWithOpt, Params: map[string]any{"module": "mod_ping"}},
		{Name: contract.CustomModuleCount, Params: map[string]any{"value": int64(0)}},
		{Name: contract.Cluster, Params: map[string]any{"uptime": "0000-00:00:01", "version": "6.4.0", "component": int64(0), "node_number": int64(1), "config_type": "toml"}},
		{Name: contract.HTTPAPI, Params: map[string]any{"mongoose_admin_api": "enabled"}},
		{Name: contract.TransportMechanism, Params: map[string]any{"tcp": "enabled"}},
		{Name: contract.XMPPStanzaCount, Params: map[string]any{"stanza_type": "xmppMessageSent", "total": int64(1), "increment": int64(1)}},
	}}}, nil
}
func (oneNode) ClusterID(context.Context) (string, error) { return "id", nil }

// exportedMetrics returns every metric the sidecar exports, with its type:
// an exporter that has seen a collection and cycles with a failing and an
// accepting destination and drift, so that every series exists.
func exportedMetrics(t *testing.T) map[string]dto.MetricType {
	t.Helper()
	e := observe.New(observe.Options{Version: "test", RoundTrips: func(string) int64 { return 1 }})
	if _, err := e.Source(oneNode{}).Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	d := reporting.Destination{Protocol: reporting.GA4, ID: "G-TEST1", Secret: "x"}
	e.ObserveCycle(reporting.Result{Nodes: 1, Collected: 1, Drift: []inventory.Difference{{Kind: inventory.DriftVersion}},
		Destinations: []reporting.DestinationResult{{Destination: d, Outcome: reporting.Failed, Requests: 1}}}, nil)
	e.ObserveCycle(reporting.Result{Nodes: 1, Collected: 1, FileErr: errors.New("disk full"),
		Destinations: []reporting.DestinationResult{{Destination: d, Outcome: reporting.Accepted, Requests: 1}}}, nil)
	mfs, err := e.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]dto.MetricType{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf.GetType()
	}
	if len(out) < 20 {
		t.Fatalf("only %d metrics gathered: %v", len(out), out)
	}
	return out
}

// grafanaPanel is the part of a dashboard panel the test reads.
type grafanaPanel struct {
	Type       string
	Title      string
	Datasource *struct{ Type, UID string }
	Targets    []struct {
		Expr       string
		Datasource *struct{ Type, UID string }
	}
	Panels []grafanaPanel // a row's
}

var (
	metricName = regexp.MustCompile(`\bmim_metrics_[a-z0-9_]+`)
	// rateOf finds the metric a range function is applied to.
	rateOf = regexp.MustCompile(`\b(rate|increase|irate)\(\s*(mim_metrics_[a-z0-9_]+)`)
)

// TestGrafanaDashboard: deploy/grafana/mim-metrics.json parses; every
// expression names only metrics the sidecar exports (histogram series by
// their _bucket/_sum/_count names), applies rate and increase only to
// counters, and uses the dashboard's Prometheus variable; it has the
// inventory table, the drift and the destinations' health.
func TestGrafanaDashboard(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(root, "deploy", "grafana", "mim-metrics.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID        string
		Title      string
		Panels     []grafanaPanel
		Templating struct {
			List []struct {
				Name, Type string
				Query      any
			}
		}
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	if dash.UID == "" || dash.Title == "" {
		t.Error("the dashboard has no uid or title")
	}
	exported := exportedMetrics(t)
	known := func(name string) (dto.MetricType, bool) {
		if typ, ok := exported[name]; ok {
			return typ, typ != dto.MetricType_HISTOGRAM
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && exported[base] == dto.MetricType_HISTOGRAM {
				return dto.MetricType_COUNTER, true // a histogram's series are cumulative
			}
		}
		return 0, false
	}
	used := map[string]bool{}
	exprs := 0
	check := func(where, expr string) {
		exprs++
		names := metricName.FindAllString(expr, -1)
		if len(names) == 0 {
			t.Errorf("%s: %q names no mim_metrics_ metric", where, expr)
		}
		for _, n := range names {
			if _, ok := known(n); !ok {
				t.Errorf("%s: %q uses %s, which the sidecar does not export", where, expr, n)
			}
			used[n] = true
		}
		for _, m := range rateOf.FindAllStringSubmatch(expr, -1) {
			if typ, ok := known(m[2]); ok && typ != dto.MetricType_COUNTER {
				t.Errorf("%s: %s(%s): %s is a %s, not a counter", where, m[1], m[2], m[2], typ)
			}
		}
	}
	var walk func(ps []grafanaPanel)
	walk = func(ps []grafanaPanel) {
		for _, p := range ps {
			walk(p.Panels)
			if p.Type == "row" {
				continue
			}
			if len(p.Targets) == 0 {
				t.Errorf("panel %q has no query", p.Title)
			}
			if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q does not use the dashboard's Prometheus variable", p.Title)
			}
			for _, tg := range p.Targets {
				check("panel "+p.Title, tg.Expr)
				if !strings.Contains(tg.Expr, `instance=~"$instance"`) {
					t.Errorf("panel %q: %q does not follow the sidecar selector", p.Title, tg.Expr)
				}
			}
		}
	}
	walk(dash.Panels)
	for _, v := range dash.Templating.List {
		if q, ok := v.Query.(map[string]any); ok {
			if s, ok := q["query"].(string); ok {
				check("variable "+v.Name, s)
			}
		}
	}
	if exprs < 15 {
		t.Errorf("only %d expressions found: the walk is broken or the dashboard is thin", exprs)
	}
	for _, want := range []string{"mim_metrics_node_info", "mim_metrics_module_info", "mim_metrics_cluster_drift",
		"mim_metrics_destination_last_success_timestamp_seconds", "mim_metrics_destination_failures_total", "mim_metrics_cycles_total"} {
		if !used[want] {
			t.Errorf("the dashboard does not show %s", want)
		}
	}
}

// TestAlertingRules: the README's alerting rule for a member that is down
// is deploy/prometheus/mim-metrics-rules.yml, word for word; its
// expressions name only metrics the sidecar exports (node_up and nodes are
// gauges: no rate); promtool, when installed (Debian's prometheus), accepts
// the file.
func TestAlertingRules(t *testing.T) {
	path := filepath.Join(root, "deploy", "prometheus", "mim-metrics-rules.yml")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rules := string(raw)
	doc := readme(t)
	block := regexp.MustCompile("(?s)```yaml\n(groups:.*?)```").FindStringSubmatch(doc)
	if block == nil {
		t.Fatal("the README gives no alerting rule (a yaml block starting with groups:)")
	}
	// The file's comments are not in the README.
	var code []string
	for _, l := range strings.Split(rules, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			code = append(code, l)
		}
	}
	if strings.Join(code, "\n") != block[1] {
		t.Errorf("the README's alerting rule differs from %s:\nREADME:\n%s\nfile without comments:\n%s", path, block[1], strings.Join(code, "\n"))
	}
	exported := exportedMetrics(t)
	exprs := regexp.MustCompile(`(?m)^\s*expr:\s*(.+)$`).FindAllStringSubmatch(rules, -1)
	if len(exprs) == 0 {
		t.Fatal("no expr in the rules")
	}
	for _, e := range exprs {
		for _, n := range metricName.FindAllString(e[1], -1) {
			if _, ok := exported[n]; !ok {
				t.Errorf("rule %q uses %s, which the sidecar does not export", e[1], n)
			}
		}
		if rateOf.MatchString(e[1]) {
			t.Errorf("rule %q applies a range function to a gauge", e[1])
		}
	}
	if !strings.Contains(rules, "mim_metrics_node_up == 0") {
		t.Error("no rule fires on mim_metrics_node_up == 0")
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool missing: test/run.sh installs Debian's prometheus")
		}
		t.Log("promtool not installed: the rules' syntax is not checked")
		return
	}
	if out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules: %v\n%s", err, out)
	}
}
