package dashboard_test

import (
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/dashboard"
	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

// Sums at the int64 limit (floods of the largest plausible stanza
// increments) stay at the limit: no sum wraps to a negative one.
func TestChartSumsSaturate(t *testing.T) {
	st := open(t, "sqlite:"+filepath.Join(t.TempDir(), "d.db"))
	day := store.Day(now)
	rows := []store.RollupRow{{Day: day, Kind: store.Production, Version: facts.AllVersions, Dimension: facts.Clusters,
		Value: facts.ClustersReturning, Clusters: 6}}
	for _, typ := range []string{"xmppMessageSent", "xmppIqSent"} {
		rows = append(rows, store.RollupRow{Day: day, Kind: store.Production, Version: facts.AllVersions,
			Dimension: facts.Stanza, Value: typ, Clusters: 1, Sum: math.MaxInt64})
	}
	if err := store.LoadRollups(ctxT(t), st, rows); err != nil {
		t.Fatal(err)
	}
	srv := server(t, st, dashboard.Options{AdminToken: token})
	seen := 0
	for _, p := range apiJSON(t, srv, "/api/v1/stanzas", "Authorization", "Bearer "+token).Points {
		if p.Day != day.Format(time.DateOnly) || p.Sum == 0 {
			continue
		}
		seen++
		if p.Sum != math.MaxInt64 {
			t.Errorf("point %+v: want the sum held at the int64 limit", p)
		}
	}
	if seen == 0 {
		t.Error("no point of the day with a sum")
	}
}
