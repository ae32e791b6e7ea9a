package store_test

import (
	"reflect"
	"testing"

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

// RollupTotals adds up the rows Rollups would return, per kind, dimension
// and value: cluster-days, the most clusters of one day, and amounts; the
// query's period, kind, version and dimensions select as for Rollups.
func TestRollupTotals(t *testing.T) {
	forEachStore(t, func(t *testing.T, s store.Store) {
		row := func(day int, kind store.Kind, version, dim, value string, clusters, amount int64) store.RollupRow {
			return store.RollupRow{Day: at(day, 0), Kind: kind, Version: version, Dimension: dim, Value: value, Clusters: clusters, Sum: amount}
		}
		if err := store.LoadRollups(ctxT(t), s, []store.RollupRow{
			row(-3, store.Production, "*", "module", "mod_a", 9, 0), // before the period
			row(-2, store.Production, "*", "module", "mod_a", 3, 10),
			row(-1, store.Production, "*", "module", "mod_a", 5, 20),
			row(-1, store.Production, "*", "module", "mod_b", 1, 0),
			row(-1, store.CI, "*", "module", "mod_a", 2, 1),
			row(-1, store.Production, "*", "stanzas", "message", 4, 1000),
			row(-1, store.Production, "6.2.1", "module", "mod_a", 5, 20),
		}); err != nil {
			t.Fatal(err)
		}
		totals := func(q store.RollupQuery) []store.RollupTotal {
			t.Helper()
			got, err := s.RollupTotals(ctxT(t), q)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		period := store.RollupQuery{From: at(-2, 0), To: at(0, 0), Dimensions: []string{"module"}}
		want := []store.RollupTotal{
			{Kind: store.CI, Dimension: "module", Value: "mod_a", ClusterDays: 2, MostClusters: 2, Sum: 1},
			{Kind: store.Production, Dimension: "module", Value: "mod_a", ClusterDays: 8, MostClusters: 5, Sum: 30},
			{Kind: store.Production, Dimension: "module", Value: "mod_b", ClusterDays: 1, MostClusters: 1, Sum: 0},
		}
		if got := totals(period); !reflect.DeepEqual(got, want) {
			t.Errorf("all kinds, module:\n got %+v\nwant %+v", got, want)
		}
		prod := period
		prod.Kind = store.Production
		if got := totals(prod); !reflect.DeepEqual(got, want[1:]) {
			t.Errorf("production:\n got %+v\nwant %+v", got, want[1:])
		}
		v := period
		v.Version = "6.2.1"
		if got, w := totals(v), []store.RollupTotal{{Kind: store.Production, Dimension: "module", Value: "mod_a", ClusterDays: 5, MostClusters: 5, Sum: 20}}; !reflect.DeepEqual(got, w) {
			t.Errorf("version 6.2.1:\n got %+v\nwant %+v", got, w)
		}
		none := period
		none.Dimensions = []string{"absent"}
		if got := totals(none); len(got) != 0 {
			t.Errorf("a dimension with no rows: %+v", got)
		}
	})
}
