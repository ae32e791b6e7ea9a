package faults_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
)

// driftWarning is the message of the drift warning.
const driftWarning = "the cluster's nodes differ"

// reportDrift is the report file's drift section.
type reportDrift []struct {
	Kind    string `json:"kind"`
	Subject string `json:"subject"`
	Groups  []struct {
		Value string   `json:"value"`
		Nodes []string `json:"nodes"`
	} `json:"groups"`
}

func readDrift(t *testing.T, dir string) reportDrift {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Drift *reportDrift `json:"drift"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if f.Drift == nil {
		t.Fatalf("the report file has no drift section:\n%s", b)
	}
	return *f.Drift
}

// driftLines returns the drift warnings the binary logged (JSON lines).
func driftLines(t *testing.T, stdout string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(stdout, "\n") {
		var e map[string]any
		if json.Unmarshal([]byte(l), &e) == nil && strings.HasPrefix(e["msg"].(string), driftWarning) {
			out = append(out, e)
		}
	}
	return out
}

// TestDriftOneNodeDiffers: in a three-node 6.4.0 cluster, one node runs
// 6.4.1 and lacks mod_muc_light. After the first cycle the binary has
// logged one warning naming that node and both differences, the report
// file's drift section lists exactly them, and the drift metric counts
// one difference of each of the two kinds, none of the others.
func TestDriftOneNodeDiffers(t *testing.T) {
	t.Parallel()
	c := startClusterArgs(t, "mim-6.4.0", [][]string{nil, nil, {"-fixture_vsn", "6.4.1", "-fixture_without_module", "mod_muc_light"}})
	odd := c.nodes[2].Name
	r := startWithMetrics(t, c)
	s := r.scrape(t)
	expectEq(t, "mim_metrics_cluster_drift", s.series(t, "mim_metrics_cluster_drift", dto.MetricType_GAUGE), map[string]float64{
		"kind=version": 1, "kind=module": 1, "kind=module_backend": 0, "kind=transport": 0, "kind=http_api": 0})
	if got := s.series(t, "mim_metrics_node_info", dto.MetricType_GAUGE); len(got) != 3 {
		t.Errorf("mim_metrics_node_info: %v, want 3 nodes", got)
	} else if !hasKeyWith(got, "node="+odd+",", "version=6.4.1") {
		t.Errorf("mim_metrics_node_info does not say %s runs 6.4.1: %v", odd, got)
	}

	lines := driftLines(t, r.p.stdout.String())
	if len(lines) != 1 {
		t.Fatalf("%d drift warnings after one cycle, want 1:\n%s", len(lines), r.p.stdout.String())
	}
	if lines[0]["level"] != "warn" {
		t.Errorf("the drift line is at level %v, want warn", lines[0]["level"])
	}
	drift, _ := json.Marshal(lines[0]["drift"])
	for _, want := range []string{"version: mongooseim 6.4.0 on ", "mongooseim 6.4.1 on " + odd,
		"module mod_muc_light: enabled on ", "not enabled on " + odd} {
		if !strings.Contains(string(drift), want) {
			t.Errorf("the drift warning lacks %q: %s", want, drift)
		}
	}

	got := readDrift(t, r.dir)
	if len(got) != 2 || got[0].Kind != "version" || got[1].Kind != "module" || got[1].Subject != "mod_muc_light" {
		t.Fatalf("report file drift: %+v, want version and module mod_muc_light", got)
	}
	for _, d := range got {
		if len(d.Groups) != 2 || len(d.Groups[0].Nodes) != 2 || len(d.Groups[1].Nodes) != 1 || d.Groups[1].Nodes[0] != odd {
			t.Errorf("report file drift %s: %+v, want the two others, then %s alone", d.Kind, d.Groups, odd)
		}
	}
}

func hasKeyWith(m map[string]float64, parts ...string) bool {
	for k := range m {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(k, p)
		}
		if all {
			return true
		}
	}
	return false
}
