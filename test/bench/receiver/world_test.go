package main

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

func testWorld(t *testing.T, n int) *world {
	t.Helper()
	gens, err := loadGenerations(filepath.Join("..", "..", "fixtures"), 20)
	if err != nil {
		t.Fatal(err)
	}
	return newWorld(gens, n, 1)
}

// TestWorldReports: the simulated reports are the size the issue asks for,
// and the requests and batches carry the same events.
func TestWorldReports(t *testing.T) {
	w := testWorld(t, 500)
	if err := w.check(); err != nil {
		t.Fatal(err)
	}
	if e := w.eventsPerReport(); e < 30 || e > 45 {
		t.Errorf("%.1f events a report, want about 40", e)
	}
	ids := map[string]bool{}
	versions := map[string]bool{}
	for _, c := range w.clusters {
		ids[c.id] = true
		versions[w.gens[c.gen].version] = true
	}
	if len(ids) != len(w.clusters) {
		t.Errorf("%d distinct client ids for %d clusters", len(ids), len(w.clusters))
	}
	if len(versions) < 4 {
		t.Errorf("only %d versions among the clusters", len(versions))
	}
	reqs, err := w.requests(w.clusters[0], w.clusters[0].gen, 0, "http://127.0.0.1:1", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	stamps := map[string]bool{}
	for _, r := range reqs {
		b, err := decodeTimestamp(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		stamps[b] = true
	}
	if len(stamps) != nodesPerCluster {
		t.Errorf("%d distinct timestamp_micros over %d nodes' requests", len(stamps), nodesPerCluster)
	}
}

// TestRollupRows: the generated roll-ups count each active cluster once
// per dimension that every report states.
func TestRollupRows(t *testing.T) {
	w := testWorld(t, 300)
	day := store.Day(time.Now())
	for _, ago := range []int{0, 200, 364} {
		active := map[store.Kind]int64{}
		for _, c := range w.clusters {
			if _, ok := c.activeOn(ago); ok {
				active[c.kind]++
			}
		}
		got := map[store.Kind]map[string]int64{}
		for _, r := range w.rollupRows(ago, day) {
			if r.Version != facts.AllVersions {
				continue
			}
			if got[r.Kind] == nil {
				got[r.Kind] = map[string]int64{}
			}
			got[r.Kind][r.Dimension] += r.Clusters
		}
		for kind, n := range active {
			for _, dim := range []string{facts.Version, facts.Clusters, facts.Country, facts.NodeNumber} {
				if got[kind][dim] != n {
					t.Errorf("%d days ago, %s: %s rows count %d clusters, %d active", ago, kind, dim, got[kind][dim], n)
				}
			}
		}
	}
}

func decodeTimestamp(body []byte) (string, error) {
	var b struct {
		TimestampMicros json.Number `json:"timestamp_micros"`
	}
	err := json.Unmarshal(body, &b)
	return b.TimestampMicros.String(), err
}
