// Package collect_test checks package metrics against real Erlang nodes:
// fixtures that answer like each MongooseIM generation, and a real ejabberd.
package collect_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/node"
	"github.com/mim-metrics/mim-metrics/test/erltest"
)

func TestMain(m *testing.M) {
	erltest.RequireForMain()
	code := m.Run()
	erltest.CleanupEjabberd()
	erltest.Cleanup()
	os.Exit(code)
}

// collectOnce dials seeds and runs one collection, returning the reports
// and the warnings logged.
func collectOnce(t *testing.T, seeds []string, cookie string, discover bool) ([]metrics.NodeReport, *observer.ObservedLogs, *metrics.Collector) {
	t.Helper()
	cl, err := node.Start(context.Background(), node.Options{Seeds: seeds, Cookie: cookie, Discover: discover})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	core, logs := observer.New(zap.WarnLevel)
	c := metrics.NewCollector(cl, zap.New(core))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	reports, err := c.Collect(ctx)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	// What a first collection cost: it includes connecting and parsing the
	// sources on the node; later ones reuse both.
	// At most 3 rex calls a node the first time (member discovery, probe,
	// gather), one a later time.
	for _, r := range reports {
		s := cl.Stats(r.Node)
		t.Logf("COST %s: first collection %v, %d round trips, %d bytes received", r.Node, took.Round(10*time.Microsecond), s.Calls, s.BytesReceived)
		if s.Calls > 3 {
			t.Errorf("%s: %d round trips in a first collection, want at most 3", r.Node, s.Calls)
		}
	}
	first := map[string]int64{}
	for _, r := range reports {
		first[r.Node] = cl.Stats(r.Node).Calls
	}
	start = time.Now()
	if _, err := c.Collect(ctx); err != nil {
		t.Fatal(err)
	}
	took = time.Since(start)
	for _, r := range reports {
		s := cl.Stats(r.Node)
		t.Logf("COST %s: total after a second collection (%v): %d round trips, %d bytes received", r.Node, took.Round(10*time.Microsecond), s.Calls, s.BytesReceived)
		if n := s.Calls - first[r.Node]; n != 1 {
			t.Errorf("%s: %d round trips in a second collection, want 1", r.Node, n)
		}
	}
	c2 := metrics.NewCollector(cl, zap.New(core))
	reports, err = c2.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return reports, logs, c2
}

// eventsJSON renders events for messages and privacy checks.
func eventsJSON(evs []contract.Event) string {
	b, _ := json.MarshalIndent(evs, "", "  ")
	return string(b)
}

// assertNoSentinel fails when any sentinel appears in s.
func assertNoSentinel(t *testing.T, what, s string, sentinels []string) {
	t.Helper()
	for _, x := range sentinels {
		if x != "" && strings.Contains(s, x) {
			t.Errorf("%s leaks %q:\n%s", what, x, s)
		}
	}
}

// findEvents returns the events named name.
func findEvents(evs []contract.Event, name string) []contract.Event {
	var out []contract.Event
	for _, e := range evs {
		if e.Name == name {
			out = append(out, e)
		}
	}
	return out
}
