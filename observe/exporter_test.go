package observe

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/inventory"
	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/reporting"
)

// fakeSource answers Collect with fixed reports: the exporter's input,
// not a part under test.
type fakeSource struct{ reports []metrics.NodeReport }

func (f fakeSource) Collect(context.Context) ([]metrics.NodeReport, error) { return f.reports, nil }
func (f fakeSource) ClusterID(context.Context) (string, error)             { return "id", nil }

func twoNodes() []metrics.NodeReport {
	return []metrics.NodeReport{
		{Node: "a@h", Server: metrics.MongooseIM, Version: "6.4.0", OTP: "25", BuiltinService: true, Events: []contract.Event{
			{Name: contract.HostCount, Params: map[string]any{"value": int64(3)}},
			{Name: contract.DomainCount, Params: map[string]any{"value": int64(4)}},
			{Name: contract.ModuleWithOpt, Params: map[string]any{"module": "mod_muc", "backend": "mnesia", "online_backend": "cets"}},
			{Name: contract.ModuleWithOpt, Params: map[string]any{"module": "mod_muc", "backend": "mnesia", "online_backend": "cets"}},
			{Name: contract.ModuleWithOpt, Params: map[string]any{"module": "mod_ping"}},
			{Name: contract.CustomModuleCount, Params: map[string]any{"value": int64(2)}},
			{Name: contract.Cluster, Params: map[string]any{"uptime": "0000-00:00:05", "version": "6.4.0", "component": int64(1), "node_number": int64(2), "config_type": "toml"}},
			{Name: contract.HTTPAPI, Params: map[string]any{"mongoose_admin_api": "enabled"}},
			{Name: contract.TransportMechanism, Params: map[string]any{"tcp": "enabled", "mod_bosh": "enabled"}},
			{Name: contract.XMPPStanzaCount, Params: map[string]any{"stanza_type": "xmppMessageSent", "total": int64(7), "increment": int64(7)}},
		}},
		{Node: "b@h", Err: errors.New("unreachable")},
	}
}

func TestExporterMetrics(t *testing.T) {
	now := time.Unix(1700000000, 0)
	e := New(Options{Version: "v1", RoundTrips: func(n string) int64 { return int64(len(n)) * 10 }, Now: func() time.Time { return now }})
	src := e.Source(fakeSource{twoNodes()})
	if _, err := src.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	dest := reporting.Destination{Protocol: reporting.GA4, ID: "G-TEST1", Secret: "s3cret"}
	e.ObserveCycle(reporting.Result{Nodes: 2, Collected: 1, Dropped: []reporting.Dropped{{Node: "a@h", Event: "x"}},
		Destinations: []reporting.DestinationResult{{Destination: dest, Outcome: reporting.Accepted, Requests: 1}}}, nil)
	e.ObserveCycle(reporting.Result{Nodes: 2, Collected: 1, Drift: []inventory.Difference{{Kind: inventory.DriftModule}, {Kind: inventory.DriftModule}, {Kind: inventory.DriftVersion}},
		Destinations: []reporting.DestinationResult{{Destination: dest, Outcome: reporting.Failed, Requests: 1, Status: 503}}}, nil)
	e.ObserveCycle(reporting.Result{}, errors.New("no node could be collected"))

	want := `
# HELP mim_metrics_cycles_total Report cycles by outcome: ok (every node, destination and the report file), partial (a report was made but something failed), failed (no report).
# TYPE mim_metrics_cycles_total counter
mim_metrics_cycles_total{outcome="failed"} 1
mim_metrics_cycles_total{outcome="ok"} 0
mim_metrics_cycles_total{outcome="partial"} 2
`
	if err := testutil.GatherAndCompare(e.Registry(), strings.NewReader(want), "mim_metrics_cycles_total"); err != nil {
		t.Error(err)
	}
	checks := map[string]float64{
		`mim_metrics_node_up{node="a@h"}`: 1,
		`mim_metrics_node_up{node="b@h"}`: 0,
		`mim_metrics_nodes{state="up"}`:   1,
		`mim_metrics_nodes{state="down"}`: 1,
		`mim_metrics_node_info{node="a@h",otp_release="25",server="mongooseim",version="6.4.0"}`:      1,
		`mim_metrics_module_info{backend="mnesia",module="mod_muc",node="a@h",online_backend="cets"}`: 1,
		`mim_metrics_module_info{backend="none",module="mod_ping",node="a@h",online_backend="none"}`:  1,
		`mim_metrics_hosts{node="a@h"}`:                                                         3,
		`mim_metrics_domains{node="a@h"}`:                                                       4,
		`mim_metrics_custom_modules{node="a@h"}`:                                                2,
		`mim_metrics_components{node="a@h"}`:                                                    1,
		`mim_metrics_cluster_size{node="a@h"}`:                                                  2,
		`mim_metrics_stanzas_total{node="a@h",type="xmppMessageSent"}`:                          7,
		`mim_metrics_builtin_service_running{node="a@h"}`:                                       1,
		`mim_metrics_transport_info{node="a@h",transport="mod_bosh"}`:                           1,
		`mim_metrics_http_api_info{handler="mongoose_admin_api",node="a@h"}`:                    1,
		`mim_metrics_rex_round_trips_total{node="b@h"}`:                                         30,
		`mim_metrics_events_dropped_total{reason="invalid"}`:                                    1,
		`mim_metrics_destination_last_success_timestamp_seconds{destination="GA4 G-TEST1"}`:     1700000000,
		`mim_metrics_destination_failures_total{destination="GA4 G-TEST1",kind="server_error"}`: 1,
		`mim_metrics_cluster_drift{kind="module"}`:                                              2,
		`mim_metrics_cluster_drift{kind="version"}`:                                             1,
		`mim_metrics_cluster_drift{kind="transport"}`:                                           0,
		`mim_metrics_build_info{version="v1"}`:                                                  1,
		`mim_metrics_last_cycle_timestamp_seconds`:                                              1700000000,
		`mim_metrics_collection_duration_seconds_count`:                                         1,
	}
	text := scrape(t, e)
	for series, v := range checks {
		if got, ok := sample(text, series); !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, v)
		}
	}
	if strings.Contains(text, "s3cret") {
		t.Error("the scrape holds a destination's secret")
	}
	if _, ok := sample(text, `mim_metrics_node_info{node="b@h"`); ok {
		t.Error("a node that was not collected has inventory series")
	}
	problems, err := promlint.NewWithMetricFamilies(mustGather(t, e)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

func TestReadyz(t *testing.T) {
	e := New(Options{})
	srv := httptest.NewServer(e.Handler())
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz: %d", code)
	}
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "no report cycle") {
		t.Errorf("/readyz before a cycle: %d %q", code, body)
	}
	e.ObserveCycle(reporting.Result{Nodes: 1, Collected: 1}, nil)
	if code, _ := get("/readyz"); code != 200 {
		t.Errorf("/readyz after a collected cycle: %d", code)
	}
	e.ObserveCycle(reporting.Result{Nodes: 1}, errors.New("no node could be collected"))
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "collected no node") {
		t.Errorf("/readyz after a cycle that collected nothing: %d %q", code, body)
	}
	if code, _ := get("/nothing"); code != 404 {
		t.Errorf("/nothing: %d", code)
	}
}

// TestOddAnswers: what a node answers cannot break a scrape: invalid
// UTF-8 and huge strings become bounded valid label values, an event the
// catalog's rules refuse is not exported (contract.Summarize), and a node
// listed twice costs its own series only.
func TestOddAnswers(t *testing.T) {
	e := New(Options{})
	odd := metrics.NodeReport{Node: "a@h", Server: metrics.MongooseIM, Version: "6.4\xff" + strings.Repeat("x", 5000), Events: []contract.Event{
		{Name: contract.ModuleWithOpt, Params: map[string]any{"module": "mod_ping", "backend": "\xfe\xfe"}},
		{Name: contract.HostCount, Params: map[string]any{"value": "not a number"}},
		{Name: contract.XMPPStanzaCount, Params: map[string]any{"stanza_type": "xmppIqSent", "total": int64(-5)}},
	}}
	_, _ = e.Source(fakeSource{[]metrics.NodeReport{odd, odd, {Node: "b@h", Server: metrics.MongooseIM, Version: "6.4.0"}}}).Collect(context.Background())
	text := scrape(t, e)
	if !strings.Contains(text, `mim_metrics_node_info{node="b@h",otp_release="",server="mongooseim",version="6.4.0"} 1`) {
		t.Errorf("the well-behaved node is missing:\n%s", text)
	}
	for _, l := range strings.Split(text, "\n") {
		if len(l) > 1000 {
			t.Errorf("a line of %d bytes: label values are not bounded", len(l))
		}
		if strings.Contains(l, "mim_metrics_hosts{") || strings.Contains(l, "xmppIqSent") {
			t.Errorf("a value that is not a count was exported: %s", l)
		}
	}
	if !strings.Contains(text, "version=\"6.4\uFFFDxxx") {
		t.Errorf("the invalid version is not exported as valid UTF-8:\n%s", text)
	}
	if strings.Contains(text, "mod_ping") {
		t.Errorf("a module event the catalog's rules refuse (its backend is no name) was exported:\n%s", text)
	}
}

// A member that is down (recorded by the cluster, not running) keeps its
// node_up series at 0 and is counted down; /readyz stays ready while
// another node was collected.
func TestDownMemberSeries(t *testing.T) {
	e := New(Options{Version: "test"})
	src := fakeSource{reports: []metrics.NodeReport{
		{Node: "a@h", Server: metrics.MongooseIM, Version: "6.4.0"},
		{Node: "b@h", Down: true, Err: errors.New("node b@h is a member of the cluster but not running")},
	}}
	if _, err := e.Source(src).Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.ObserveCycle(reporting.Result{Nodes: 2, Collected: 1, Down: 1}, nil)
	text := scrape(t, e)
	for series, want := range map[string]float64{`mim_metrics_node_up{node="b@h"}`: 0, `mim_metrics_node_up{node="a@h"}`: 1,
		`mim_metrics_nodes{state="down"}`: 1, `mim_metrics_nodes{state="up"}`: 1, `mim_metrics_cycles_total{outcome="partial"}`: 1} {
		if v, ok := sample(text, series); !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v in:\n%s", series, v, ok, want, text)
		}
	}
	if ok, why := e.Ready(); !ok {
		t.Errorf("not ready with one node collected: %s", why)
	}
}
