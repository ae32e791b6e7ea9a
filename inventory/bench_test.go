package inventory

import (
	"fmt"
	"testing"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/metrics"
)

// bigReport is a node with hosts × 12 module events (MongooseIM reports
// every known module for every host type).
func bigReport(node string, hosts int) metrics.NodeReport {
	r := report(node, nil)
	for h := 0; h < hosts; h++ {
		for m := 0; m < 12; m++ {
			r.Events = append(r.Events, contract.Event{Name: contract.ModuleWithOpt, Params: map[string]any{"module": fmt.Sprintf("mod_%d", m), "backend": "rdbms"}})
		}
	}
	return r
}

// BenchmarkOf: reading a node with 10,000 hosts (120,000 module events).
func BenchmarkOf(b *testing.B) {
	r := bigReport("a@h", 10000)
	b.ReportAllocs()
	for b.Loop() {
		Of(r)
	}
}

// BenchmarkDrift: comparing three such nodes.
func BenchmarkDrift(b *testing.B) {
	rs := []metrics.NodeReport{bigReport("a@h", 10000), bigReport("b@h", 10000), bigReport("c@h", 10000)}
	b.ReportAllocs()
	for b.Loop() {
		Drift(rs)
	}
}
