package dashboard

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

// yearOfRuns is a year of cluster runs shaped like 10,000 clusters' (each
// reporting every day, a profile change a month), and the daily roll-ups
// of the active clusters.
func yearOfRuns() (store.RunSet, []store.RollupRow) {
	set := store.RunSet{Profiles: map[int64][]facts.Fact{}}
	for p := int64(1); p <= 200; p++ {
		var f []facts.Fact
		f = append(f, facts.Fact{Dimension: facts.Version, Value: fmt.Sprintf("6.%d.%d", p%6, p%3)})
		for m, bes := range knownBackends {
			f = append(f, facts.Fact{Dimension: facts.Module, Value: m}, facts.Fact{Dimension: facts.ModuleBackend, Value: m + "/" + bes[int(p)%len(bes)]})
		}
		for _, def := range builtinCharts {
			if _, reported := facts.SpecOf(def.Dimension); reported && def.Known != nil {
				vals := def.Known
				f = append(f, facts.Fact{Dimension: def.Dimension, Value: vals[int(p)%len(vals)]})
			}
		}
		set.Profiles[p] = f
	}
	for c := range 10_000 {
		kind := store.Production
		if c%5 == 0 {
			kind = store.CI
		}
		for m := 0; m < 12; m++ {
			set.Runs = append(set.Runs, store.Run{Property: "P", ClientID: fmt.Sprintf("c%05d", c), Kind: kind,
				First: daysAgo(365 - 30*m), Last: daysAgo(365 - 30*m - 29), Profile: int64(1 + (c+m)%200)})
		}
	}
	var rows []store.RollupRow
	for d := 0; d < 365; d++ {
		for _, k := range []store.Kind{store.Production, store.CI} {
			rows = append(rows, row(daysAgo(d), k, facts.Clusters, "new", 30), row(daysAgo(d), k, facts.Clusters, "returning", 5000))
		}
	}
	return set, rows
}

// BenchmarkPages draws every page for 365 days from a year of runs (no
// store: the counting, the computation and the template) and reports its
// bytes.
func BenchmarkPages(b *testing.B) {
	d := New(nil, Options{Now: func() time.Time { return testToday }}).(*dashboard)
	set, rows := yearOfRuns()
	f, _ := parseFilter(map[string][]string{"period": {"365"}}, testToday)
	pages := pagesOf(builtinCharts)
	for _, pg := range pages {
		defs := pg.Charts
		b.Run(pg.Title, func(b *testing.B) {
			var size int
			for b.Loop() {
				bl := builder{in: newPageInput(f, testToday, set, rows, defs, 5), hide: true, k: 5}
				data := pageData{base: base{Title: pg.Title, Path: pg.Path, Pages: pages, Filter: f, Periods: periods}}
				for _, def := range defs {
					data.Charts = append(data.Charts, newChartView(bl.build(def), ""))
				}
				var buf bytes.Buffer
				if err := d.tmpl.ExecuteTemplate(&buf, "page", data); err != nil {
					b.Fatal(err)
				}
				size = buf.Len()
			}
			b.ReportMetric(float64(size), "bytes/page")
		})
	}
}

// BenchmarkChartInput counts and builds one chart of a year of runs, as an
// API call does after a roll-up (no store, no drawing).
func BenchmarkChartInput(b *testing.B) {
	set, rows := yearOfRuns()
	f, _ := parseFilter(map[string][]string{"period": {"365"}}, testToday)
	for _, id := range []string{"support", "versions", "nodes"} {
		def, _ := findChart(builtinCharts, id)
		b.Run(id, func(b *testing.B) {
			for b.Loop() {
				in := newPageInput(f, testToday, set, rows, []ChartDef{def}, 5)
				_ = builder{in: in, hide: true, k: 5}.build(def)
			}
		})
	}
}
