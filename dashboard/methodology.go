package dashboard

import (
	"net/http"

	"github.com/mim-metrics/mim-metrics/disclosure"
	"github.com/mim-metrics/mim-metrics/facts"
)

// methodologyData is the page that says how every number is counted,
// drawn from the same definitions that count: the charts, the dimensions'
// rules (facts.Specs) and the public view's rule (disclosure.Explain).
type methodologyData struct {
	base
	Charts []methodChart
	Public []string
}

type methodChart struct {
	ID, Title, Unit, Base, Rule, NotReported string
	Partition                                bool
}

func (d *dashboard) methodology(w http.ResponseWriter, r *http.Request) {
	f, _ := parseFilter(r.URL.Query(), d.now())
	data := methodologyData{base: d.base(r, "How the numbers are counted", f, nil), Public: disclosure.Explain(d.min)}
	if f.Version == facts.AllVersions || d.isAdmin(r) {
		ctx, cancel := d.ctx(r)
		defer cancel()
		data.Status = d.status(ctx, f, d.isAdmin(r))
	}
	for _, def := range d.charts {
		m := methodChart{ID: def.ID, Title: def.Title, Unit: def.unit(), Partition: def.partition()}
		def.Kind.explain(&m, def, d.min)
		data.Charts = append(data.Charts, m)
	}
	d.render(w, r, http.StatusOK, "methodology", data)
}
