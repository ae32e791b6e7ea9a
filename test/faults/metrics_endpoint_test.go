package faults_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/test/erltest"
	"github.com/mim-metrics/mim-metrics/test/fakega"
)

// metricsRun is the binary running with --metrics-listen against a
// cluster, after its first cycle.
type metricsRun struct {
	p    *proc
	addr string // host:port of the endpoint
	dir  string // report file and state
}

// startWithMetrics runs `mim-metrics run` against the cluster with the
// endpoint on a free loopback port, and waits until /readyz says the first
// cycle collected a node.
func startWithMetrics(t *testing.T, c *cluster, extra ...string) *metricsRun {
	t.Helper()
	dir := t.TempDir()
	cookieFile := filepath.Join(dir, "cookie")
	if err := os.WriteFile(cookieFile, []byte(c.cookie+"\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	ga := fakega.New(t)
	args, _ := binArgs(t, c.nodes[0].Name, cookieFile, ga.URL, dir,
		append([]string{"--initial-report=0", "--periodic-report=1h", "--metrics-listen=127.0.0.1:0"}, extra...)...)
	r := &metricsRun{p: startBin(t, procEnv(t), args...), dir: dir}
	t.Cleanup(func() {
		if _, exited := r.p.signal(syscall.SIGTERM, 15*time.Second); !exited {
			t.Error("mim-metrics did not stop within 15 s of SIGTERM")
		}
	})
	r.p.waitOutput(t, `"metrics_listen":`, 30*time.Second)
	for _, l := range strings.Split(r.p.stdout.String(), "\n") {
		var entry struct {
			Msg    string `json:"msg"`
			Listen string `json:"metrics_listen"`
		}
		if json.Unmarshal([]byte(l), &entry) == nil && entry.Listen != "" {
			r.addr = entry.Listen
		}
	}
	if r.addr == "" {
		t.Fatalf("no metrics_listen address in the log:\n%s", r.p.stdout.String())
	}
	if code, body := httpGet(t, r.addr, "/healthz"); code != 200 {
		t.Errorf("/healthz: %d %s", code, body)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		code, body := httpGet(t, r.addr, "/readyz")
		if code == 200 {
			break
		}
		if code != 503 {
			t.Fatalf("/readyz: %d %s, want 503 until the first cycle, then 200", code, body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still %d (%s) after 60 s:\n%s", code, body, r.p.stdout.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return r
}

func httpGet(t *testing.T, addr, path string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return resp.StatusCode, string(b)
}

// scrape is one /metrics answer, parsed by Prometheus' own parser.
type scrape struct {
	text     string
	families map[string]*dto.MetricFamily
}

func (r *metricsRun) scrape(t *testing.T) scrape {
	t.Helper()
	code, text := httpGet(t, r.addr, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d %s", code, text)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("/metrics does not parse as Prometheus text: %v\n%s", err, text)
	}
	problems, err := promlint.New(strings.NewReader(text)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range problems {
		t.Errorf("promlint: %s: %s", pr.Metric, pr.Text)
	}
	return scrape{text: text, families: fams}
}

// series returns the metric's series as "label=value,..." (labels sorted)
// -> value, failing unless the metric has type typ.
func (s scrape) series(t *testing.T, name string, typ dto.MetricType) map[string]float64 {
	t.Helper()
	f, ok := s.families[name]
	if !ok {
		t.Errorf("%s is not exported", name)
		return nil
	}
	if f.GetType() != typ {
		t.Errorf("%s is a %s, want a %s", name, f.GetType(), typ)
	}
	out := map[string]float64{}
	for _, m := range f.GetMetric() {
		var ls []string
		for _, l := range m.GetLabel() {
			ls = append(ls, l.GetName()+"="+l.GetValue())
		}
		sort.Strings(ls)
		var v float64
		switch {
		case m.Gauge != nil:
			v = m.GetGauge().GetValue()
		case m.Counter != nil:
			v = m.GetCounter().GetValue()
		case m.Histogram != nil:
			v = float64(m.GetHistogram().GetSampleCount())
		}
		out[strings.Join(ls, ",")] = v
	}
	return out
}

// expectEq fails unless got and want hold the same series and values.
func expectEq(t *testing.T, name string, got, want map[string]float64) {
	t.Helper()
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s{%s} = %v (present %v), want %v", name, k, g, ok, v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s{%s} = %v is not expected", name, k, v)
		}
	}
}

// fixtureEvents reads a fixture generation's expected.json.
func fixtureEvents(t *testing.T, era string) []struct {
	Name   string         `json:"name"`
	Params map[string]any `json:"params"`
} {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixturesDir, era, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var evs []struct {
		Name   string         `json:"name"`
		Params map[string]any `json:"params"`
	}
	if err := json.Unmarshal(b, &evs); err != nil {
		t.Fatal(err)
	}
	return evs
}

// otpRelease asks a node its OTP release.
func otpRelease(t *testing.T, n *erltest.Node) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := n.Eval(ctx, "erlang:system_info(otp_release)")
	if err != nil {
		t.Fatalf("otp_release: %v %s", err, out)
	}
	return strings.Trim(out, `"`)
}

// TestMetricsEndpoint scrapes /metrics from the binary against a
// three-node MongooseIM 6.4.0 fixture cluster: the names, types and values
// are the cluster's (from the fixture's expected report, independently of
// the sidecar), Prometheus' parser reads it, promlint finds nothing, and no
// host, domain or custom module name of the fixture is in it. The nodes
// agree, so no drift is logged, written or counted.
func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	c := startCluster(t, "mim-6.4.0", 3)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if out, err := c.nodes[1].Eval(ctx, "fixture:bump(xmppMessageSent, 5)"); err != nil || out != "ok" {
		t.Fatalf("bump: %v %s", err, out)
	}
	otp := otpRelease(t, c.nodes[0])
	r := startWithMetrics(t, c)
	s := r.scrape(t)

	// The sidecar's health.
	expectEq(t, "mim_metrics_nodes", s.series(t, "mim_metrics_nodes", dto.MetricType_GAUGE), map[string]float64{"state=up": 3, "state=down": 0})
	if got := s.series(t, "mim_metrics_cycles_total", dto.MetricType_COUNTER); got["outcome=ok"] != 1 || got["outcome=failed"] != 0 || got["outcome=partial"] != 0 {
		t.Errorf("mim_metrics_cycles_total = %v, want one ok cycle", got)
	}
	if got := s.series(t, "mim_metrics_collection_duration_seconds", dto.MetricType_HISTOGRAM); got[""] < 1 {
		t.Errorf("mim_metrics_collection_duration_seconds has %v observations, want at least 1", got[""])
	}
	dest := "destination=GA4 " + strings.Split(trackingID, ":")[0]
	if got := s.series(t, "mim_metrics_destination_last_success_timestamp_seconds", dto.MetricType_GAUGE); got[dest] < float64(time.Now().Add(-5*time.Minute).Unix()) {
		t.Errorf("mim_metrics_destination_last_success_timestamp_seconds = %v, want %s a moment ago", got, dest)
	}
	if _, ok := s.families["mim_metrics_destination_failures_total"]; ok {
		t.Errorf("a destination failure is counted: %v", s.series(t, "mim_metrics_destination_failures_total", dto.MetricType_COUNTER))
	}
	expectEq(t, "mim_metrics_events_dropped_total", s.series(t, "mim_metrics_events_dropped_total", dto.MetricType_COUNTER),
		map[string]float64{"reason=invalid": 0, "reason=destination_limit": 0})
	rt := s.series(t, "mim_metrics_rex_round_trips_total", dto.MetricType_COUNTER)
	for _, n := range c.nodes {
		// A first collection is two round trips (probe, gather); the seed
		// may be asked for the members and the Cluster ID too.
		if v := rt["node="+n.Name]; v < 2 || v > 6 {
			t.Errorf("mim_metrics_rex_round_trips_total{node=%s} = %v, want 2..6", n.Name, v)
		}
	}
	if got := s.series(t, "mim_metrics_build_info", dto.MetricType_GAUGE); len(got) != 1 {
		t.Errorf("mim_metrics_build_info: %v", got)
	}

	// The inventory, node by node, as the fixture's expected report says.
	want := map[string]map[string]float64{}
	add := func(metric, labels string, v float64) {
		if want[metric] == nil {
			want[metric] = map[string]float64{}
		}
		want[metric][labels] = v
	}
	for _, n := range c.nodes {
		nl := "node=" + n.Name
		add("mim_metrics_node_up", nl, 1)
		add("mim_metrics_node_info", nl+",otp_release="+otp+",server=mongooseim,version=6.4.0", 1)
		add("mim_metrics_builtin_service_running", nl, 1)
		add("mim_metrics_cluster_size", nl, 3)
		add("mim_metrics_components", nl, 0)
		for _, e := range fixtureEvents(t, "mim-6.4.0") {
			p := e.Params
			switch e.Name {
			case contract.HostCount:
				add("mim_metrics_hosts", nl, p["value"].(float64))
			case contract.DomainCount:
				add("mim_metrics_domains", nl, p["value"].(float64))
			case contract.CustomModuleCount:
				add("mim_metrics_custom_modules", nl, p["value"].(float64))
			case contract.ModuleWithOpt:
				backend, online := "none", "none"
				if b, ok := p["backend"].(string); ok {
					backend = b
				}
				if b, ok := p["online_backend"].(string); ok {
					online = b
				}
				add("mim_metrics_module_info", fmt.Sprintf("backend=%s,module=%s,%s,online_backend=%s", backend, p["module"], nl, online), 1)
			case contract.TransportMechanism:
				for k := range p {
					add("mim_metrics_transport_info", nl+",transport="+k, 1)
				}
			case contract.HTTPAPI:
				for k := range p {
					add("mim_metrics_http_api_info", "handler="+k+","+nl, 1)
				}
			case contract.OutgoingPool: // a dimension declared in contract/erl without a series of its own
				add("mim_metrics_declared_info", "dimension=pool,name="+p["value"].(string)+","+nl, 1)
			case contract.XMPPStanzaCount:
				total := p["total"].(float64)
				if n == c.nodes[1] && p["stanza_type"] == "xmppMessageSent" {
					total += 5
				}
				add("mim_metrics_stanzas_total", nl+",type="+p["stanza_type"].(string), total)
			}
		}
	}
	types := map[string]dto.MetricType{"mim_metrics_stanzas_total": dto.MetricType_COUNTER}
	for metric, w := range want {
		typ, ok := types[metric]
		if !ok {
			typ = dto.MetricType_GAUGE
		}
		expectEq(t, metric, s.series(t, metric, typ), w)
	}

	// The nodes agree: no drift anywhere.
	expectEq(t, "mim_metrics_cluster_drift", s.series(t, "mim_metrics_cluster_drift", dto.MetricType_GAUGE), map[string]float64{
		"kind=version": 0, "kind=module": 0, "kind=module_backend": 0, "kind=transport": 0, "kind=http_api": 0})
	if lines := driftLines(t, r.p.stdout.String()); len(lines) != 0 {
		t.Errorf("drift warnings where the nodes agree: %v", lines)
	}
	if d := readDrift(t, r.dir); len(d) != 0 {
		t.Errorf("report file drift where the nodes agree: %+v", d)
	}

	// Privacy: no host, domain, custom module or other planted private
	// value of the fixture.
	sentinels, err := erltest.Sentinels(fixturesDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, sn := range sentinels {
		if strings.Contains(s.text, sn) {
			t.Errorf("the scrape contains the private fixture value %q", sn)
		}
	}
	// Every metric has the prefix and a help text.
	for name, f := range s.families {
		if !strings.HasPrefix(name, "mim_metrics_") || f.GetHelp() == "" {
			t.Errorf("%s: want the mim_metrics_ prefix and a help text", name)
		}
	}
}
