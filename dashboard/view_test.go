package dashboard

import (
	"bytes"
	"html/template"
	"strings"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

// hostileValues are what an untrusted sender may report.
var hostileValues = []string{
	"<script>alert(1)</script>",
	`"><svg onload=alert(2)>`,
	strings.Repeat(`<svg><text x="1">x</text></svg>`, 4),
}

// TestHostileValuesRenderAsText draws charts of hostile values (backends,
// adoption, shares, sums, daily; unfolded, as the admin sees them) and
// checks nothing is markup.
func TestHostileValuesRenderAsText(t *testing.T) {
	d := New(nil, Options{Now: func() time.Time { return testToday }}).(*dashboard)
	today := daysAgo(0)
	var profile []facts.Fact
	var rows []store.RollupRow
	for _, v := range hostileValues {
		profile = append(profile, factsOf(facts.Version, v, facts.Module, v, facts.ModuleBackend, v+"/"+v, facts.HTTPAPI, v)...)
		rows = append(rows, store.RollupRow{Day: today, Kind: store.Production, Version: "*", Dimension: facts.Stanza, Value: v, Clusters: 1, Sum: 5},
			row(today, store.Production, "made_up", v, 1))
	}
	rows = append(rows, row(today, store.Production, facts.Clusters, "new", 1))
	set := runSet(fakeCluster{id: "c", kind: store.Production, from: 0, to: 0, facts: profile})
	f := mustFilter(t, "")
	var defs []ChartDef
	for _, id := range []string{"backends", "versions", "http-apis", "stanzas"} {
		defs = append(defs, builtin(t, id))
	}
	defs = append(defs, ChartDef{ID: "made-up", Page: ShapePage, Title: "Made up", Dimension: "made_up", Kind: Daily})
	b := builder{in: newPageInput(f, testToday, set, rows, defs, 5), k: 5}
	data := pageData{base: base{Title: "t", Path: "/", Pages: pagesOf(builtinCharts), Filter: f, Query: template.URL(f.values().Encode()), Versions: hostileValues, Periods: periods, Admin: true}}
	for _, def := range defs {
		data.Charts = append(data.Charts, newChartView(b.build(def), string(data.Query)))
	}
	var buf bytes.Buffer
	if err := d.tmpl.ExecuteTemplate(&buf, "page", data); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, bad := range []string{"<script>alert", "<svg onload", "<svg><text"} {
		if strings.Contains(out, bad) {
			i := strings.Index(out, bad)
			t.Errorf("markup %q in the page: …%s…", bad, out[max(0, i-80):min(len(out), i+80)])
		}
	}
	if !strings.Contains(out, template.HTMLEscapeString(hostileValues[0])) {
		t.Errorf("the hostile version is not shown as text")
	}
	// A long label is cut in the SVG, the whole text in its <title>.
	long := hostileValues[2]
	if !strings.Contains(out, "<title>"+template.HTMLEscapeString(long)+"</title>") {
		t.Errorf("no <title> with the full long label")
	}
}
