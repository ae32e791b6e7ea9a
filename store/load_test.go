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
