package dashboard

import (
	"net/http"
	"strings"

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
	for _, def := range charts {
		m := methodChart{ID: def.ID, Title: def.Title, Unit: def.Type.unit(), Partition: def.partition()}
		switch {
		case def.Grouped:
			m.Base = "the clusters that run the module"
		case def.Type == shares && def.Dimension == facts.Module:
			m.Base = "the active clusters"
		case def.Type == shares:
			m.Base = "the clusters that could report it (all active clusters when few could not)"
		case def.Type == weekly:
			m.Base = "the week's active clusters"
		}
		if spec, ok := facts.SpecOf(def.Dimension); ok {
			m.Rule, m.NotReported = spec.Rule, spec.NotReported
		}
		if def.Dimension == supportDimension {
			m.Unit = supportUnit(nil, d.min)
			m.Unit = strings.TrimSuffix(m.Unit, " (none in this period)") + " (the lines are named on the chart)"
			m.Rule = "under the support of each version it ran in the week: a cluster that upgraded during the week counts under both"
		}
		data.Charts = append(data.Charts, m)
	}
	d.render(w, r, http.StatusOK, "methodology", data)
}
