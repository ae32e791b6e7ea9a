package reporting

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/metrics"
)

// TestReportFileDrift: the report file's drift section lists where the
// nodes differ, and is an empty list when they agree.
func TestReportFileDrift(t *testing.T) {
	node := func(name, version string) metrics.NodeReport {
		return metrics.NodeReport{Node: name, Server: metrics.MongooseIM, Version: version,
			Events: []contract.Event{{Name: contract.Cluster, Params: map[string]any{"version": version}}}}
	}
	decode := func(reports []metrics.NodeReport) map[string]json.RawMessage {
		b, err := encodeReportFile("id", time.Unix(0, 0), reports, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		var f map[string]json.RawMessage
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		return f
	}
	if got := string(decode([]metrics.NodeReport{node("a@h", "6.4.0"), node("b@h", "6.4.0")})["drift"]); got != "[]" {
		t.Errorf("drift of agreeing nodes: %s, want []", got)
	}
	var drift []struct {
		Kind   string
		Groups []struct {
			Value string
			Nodes []string
		}
	}
	raw := decode([]metrics.NodeReport{node("a@h", "6.4.0"), node("b@h", "6.4.1")})["drift"]
	if err := json.Unmarshal(raw, &drift); err != nil {
		t.Fatal(err)
	}
	if len(drift) != 1 || drift[0].Kind != "version" || len(drift[0].Groups) != 2 || drift[0].Groups[1].Nodes[0] != "b@h" {
		t.Errorf("drift: %s, want one version difference naming b@h", raw)
	}
}
