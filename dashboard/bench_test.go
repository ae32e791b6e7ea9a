package dashboard

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

// yearOfRows is a year of roll-up rows of both kinds for the dimensions
// of every page, shaped like 10,000 clusters' (values per dimension as
// MongooseIM reports them).
func yearOfRows() []store.RollupRow {
	var rows []store.RollupRow
	for d := 0; d < 365; d++ {
		day := daysAgo(d)
		for _, k := range []store.Kind{store.Production, store.CI} {
			rows = append(rows, row(day, k, facts.Clusters, "new", 30), row(day, k, facts.Clusters, "returning", 9000))
			for m, bes := range knownBackends {
				for i, be := range bes {
					rows = append(rows, row(day, k, facts.ModuleBackend, m+"/"+be, int64(100*(i+1))))
				}
				rows = append(rows, row(day, k, facts.Module, m, 500))
			}
			for i := 0; i < 30; i++ {
				rows = append(rows, row(day, k, facts.Version, fmt.Sprintf("6.%d.%d", i/3, i%3), int64(10+i*20)))
			}
			for dim, vals := range knownValues {
				for i, v := range vals {
					rows = append(rows, store.RollupRow{Day: day, Kind: k, Version: "*", Dimension: dim, Value: v, Clusters: int64(3 * i), Sum: int64(1000 * i)})
				}
			}
		}
	}
	return rows
}

// BenchmarkPages draws every page for 365 days from a year of rows (no
// store: the computation and the template only) and reports its bytes.
func BenchmarkPages(b *testing.B) {
	d := New(nil, Options{Now: func() time.Time { return testToday }}).(*dashboard)
	rows := yearOfRows()
	f, _ := parseFilter(map[string][]string{"period": {"365"}}, testToday)
	for _, pg := range pages {
		// The rows the store answers for the page: its dimensions and the
		// active clusters.
		want := map[string]bool{facts.Clusters: true}
		for _, id := range pg.Charts {
			def, _ := chartByID(id)
			want[def.Dimension] = true
		}
		var pageRows []store.RollupRow
		for _, r := range rows {
			if want[r.Dimension] {
				pageRows = append(pageRows, r)
			}
		}
		b.Run(pg.Title, func(b *testing.B) {
			var size int
			for b.Loop() {
				idx := indexRows(pageRows)
				bl := builder{rows: idx, f: f, fold: true, minClusters: 5}
				data := pageData{base: base{Title: pg.Title, Path: pg.Path, Pages: pages, Filter: f, Periods: periods}}
				for _, id := range pg.Charts {
					def, _ := chartByID(id)
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
