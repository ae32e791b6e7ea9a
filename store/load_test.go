package store_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

// LoadRollups replaces the days it is given and leaves the others; what it
// wrote reads back as RollUp's rows do, and a RollUp of such a day from
// its facts replaces the loaded rows.
func TestLoadRollups(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		row := func(day int, value string, clusters int64) store.RollupRow {
			return store.RollupRow{Day: at(day, 0), Kind: store.Production, Version: "*", Dimension: "module", Value: value, Clusters: clusters}
		}
		first := []store.RollupRow{row(-2, "mod_a", 3), row(-1, "mod_a", 4), row(-1, "mod_b", 1)}
		if err := store.LoadRollups(ctxT(t), s, first); err != nil {
			t.Fatal(err)
		}
		second := []store.RollupRow{row(-1, "mod_c", 7)}
		if err := store.LoadRollups(ctxT(t), s, second); err != nil {
			t.Fatal(err)
		}
		got := rollups(t, s, store.RollupQuery{From: at(-2, 0), To: at(0, 0)})
		if want := []store.RollupRow{first[0], second[0]}; !reflect.DeepEqual(got, want) {
			t.Fatalf("after two loads:\n%s\nwant\n%s", rowsText(got), rowsText(want))
		}
		add(t, s, batch(at(-1, 5), "G-PROD", store.Production, "A", clusterEv("6.6.0", 1)))
		if err := s.RollUp(ctxT(t), at(-1, 0)); err != nil {
			t.Fatal(err)
		}
		for _, r := range rollups(t, s, store.RollupQuery{From: at(-1, 0), To: at(-1, 0)}) {
			if r.Dimension == "module" {
				t.Errorf("a loaded row survived the day's RollUp: %+v", r)
			}
		}
		if err := store.LoadRollups(ctxT(t), nil, first); err == nil {
			t.Error("LoadRollups into a nil store: no error")
		}
	})
}

// LoadClusters' rows are listed and sorted as the roll-ups' are.
func TestLoadClusters(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		latest := func(version, nodes string) []facts.Fact {
			return []facts.Fact{{Dimension: facts.Version, Value: version}, {Dimension: facts.NodeNumber, Value: nodes}}
		}
		cs := []store.LoadedCluster{
			{Property: "G-PROD", ClientID: "a", Kind: store.Production, FirstSeen: at(-3, 0), LastSeen: at(0, 1), Latest: latest("6.9.0", "4")},
			{Property: "G-PROD", ClientID: "b", Kind: store.Production, FirstSeen: at(-2, 0), LastSeen: at(0, 2), Latest: latest("6.10.0", "2")},
			{Property: "G-CI", ClientID: "c", Kind: store.CI, FirstSeen: at(-1, 0), LastSeen: at(0, 3), Latest: latest("5.1.0", "11-20")},
		}
		if err := store.LoadClusters(ctxT(t), s, cs); err != nil {
			t.Fatal(err)
		}
		lister := s.(store.ClusterLister)
		for sort, want := range map[store.ClusterSort]string{store.SortLastSeen: "c,b,a", store.SortVersion: "b,a,c", store.SortNodes: "c,a,b"} {
			got, _, err := lister.ClusterPage(ctxT(t), store.ClusterListQuery{Since: at(-5, 0), Sort: sort, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, c := range got {
				ids = append(ids, c.ClientID)
			}
			if strings.Join(ids, ",") != want {
				t.Errorf("by %s: %v, want %s", sort, ids, want)
			}
		}
		if err := store.LoadClusters(ctxT(t), nil, cs); err == nil {
			t.Error("LoadClusters into a nil store: no error")
		}
	})
}
