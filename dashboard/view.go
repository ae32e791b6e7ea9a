package dashboard

import (
	"cmp"
	"fmt"
	"html/template"
	"slices"
	"strconv"
	"strings"

	"github.com/mim-metrics/mim-metrics/facts"
)

// What the templates draw: the geometry of each chart's SVG, computed here,
// and its table. Every text comes from an untrusted sender: the templates
// escape it (SVG text nodes included); long labels are cut, the whole text
// kept in a <title>.

const (
	labelRunes = 28 // longer labels are cut, the full text in a <title>
	svgWidth   = 640
)

// layout is one drawing of a chart: wide (desktops) or narrow (phones);
// the page carries both, the stylesheet shows one, so that a phone's chart
// is drawn for its width instead of shrunk (labels stay legible).
type layout struct {
	Class    string
	Width    float64
	Narrow   bool
	Ticks    int // value ticks, about
	Dates    int // date labels, at most
	EndLabel bool
}

var (
	wideLayout   = layout{Class: "wide", Width: svgWidth, Ticks: 5, Dates: 7, EndLabel: true}
	narrowLayout = layout{Class: "narrow", Width: 360, Narrow: true, Ticks: 4, Dates: 3}
	layouts      = []layout{wideLayout, narrowLayout}
)

// chartView is one chart as a page shows it; HTML, when set, is the chart
// drawn already (its section), which the page shows as it is.
type chartView struct {
	HTML template.HTML
	Chart
	About string
	Unit  string
	// BaseTexts say what each series' shares are of.
	BaseTexts []string
	Panels    []panel
	Table     table
	Legend    []legendItem
	Empty     bool
	APIJSON   string
	APICSV    string
	APISVG    string
	MethodURL string
	// Collapse: the table is long (a time chart's), shown on demand.
	Collapse bool
}

// legendItem is one entry of a legend: a swatch (filled, or a line with
// its dash) and its label.
type legendItem struct {
	Label, Color, Fill, Dash string
	Line                     bool
}

// panel is one SVG: a bar chart, or one series' time chart, in one layout.
type panel struct {
	Title string
	// Label names the SVG for screen readers.
	Label         string
	Class         string
	Width, Height int
	Texts         []svgText
	Bars          []svgBar
	Areas         []svgArea
	Lines         []svgLine
	Dots          []svgDot
	Grid          []svgGrid
	Marks         []svgMark
}

type svgText struct {
	X, Y        float64
	Text, Full  string
	Class       string
	AnchorStart bool
}

type svgBar struct {
	X, Y, W, H float64
	Fill       string
	Tip        string
	Point      Point
}

type svgArea struct {
	D, Fill, Label string
}

type svgLine struct {
	D, Color, Dash, Label string
	Class                 string
}

type svgDot struct {
	X, Y  float64
	Color string
	Tip   string
	Point Point
}

// svgMark is a marker line with its text (the latest release).
type svgMark struct {
	X1, Y1, X2, Y2 float64
}

type svgGrid struct{ X1, Y1, X2, Y2 float64 }

// table is the chart's numbers beside it. A shares table's cells carry
// their point whole; a time table's cells carry the numbers only, their
// series and label on the column's heading and their day on the row
// (a year of days would otherwise repeat them thousands of times).
type table struct {
	Head []tableCol
	// Groups, when set, is a row of headings above Head (a release line
	// above its versions).
	Groups []tableGroup
	Rows   []tableRow
	// Time: a time table; Sums: its cells are sums (else clusters and shares).
	Time, Sums bool
}

type tableGroup struct {
	Text string
	Span int
}

type tableCol struct {
	Text          string
	Series, Label string
	Group         string
}

type tableRow struct {
	Day  string
	Head []string
	// Link is where the row's first heading leads (a module's page).
	Link  string
	Cells []tableCell
}

type tableCell struct {
	Text  string
	Point Point
	Has   bool
}

// label returns a text cut to labelRunes with its full form when cut.
func label(s string) (text, full string) {
	t := truncate(s, labelRunes)
	if t != s {
		return t, s
	}
	return s, ""
}

// num writes a number as the API's JSON does.
func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func percent(v float64) string { return strconv.FormatFloat(v*100, 'f', 1, 64) + " %" }

func clustersText(n int64) string {
	if n == 1 {
		return "1 cluster"
	}
	return strconv.FormatInt(n, 10) + " clusters"
}

// baseText says what a series' (or group's) shares are of, and how many
// clusters could not report the value.
func baseText(b Base) string {
	s := b.Series + ": "
	if b.Hidden != "" {
		return s + b.Of + ": " + b.Hidden
	}
	if b.Clusters == 0 && b.Active > 0 {
		return s + fmt.Sprintf("no cluster could report it (%d of %d active: their versions cannot report it)", b.NotReported, b.Active)
	}
	s += "shares of the " + clustersText(b.Clusters) + " " + strings.TrimPrefix(b.Of, "clusters ")
	if b.Of == "active clusters" {
		s = b.Series + ": shares of the " + strconv.FormatInt(b.Clusters, 10) + " active clusters"
	}
	switch {
	case b.NotReportedHidden != "":
		s += "; not reported: " + b.NotReportedHidden
	case b.NotReported > 0:
		s += fmt.Sprintf("; not reported: %s of %d active (their versions cannot report it)", clustersText(b.NotReported), b.Active)
	}
	return s
}

// newChartView lays a chart out; query is the filter, for its links.
func newChartView(c Chart, query string) chartView {
	v := chartView{Chart: c, About: c.def.About,
		APIJSON: "/api/v1/" + c.ID + ".json", APICSV: "/api/v1/" + c.ID + ".csv", APISVG: "/api/v1/" + c.ID + ".svg",
		MethodURL: "/methodology"}
	if query != "" {
		v.APIJSON += "?" + query
		v.APICSV += "?" + query
		v.APISVG += "?" + query
		v.MethodURL += "?" + query
	}
	v.MethodURL += "#chart-" + c.ID
	v.Unit = c.Unit
	for _, b := range c.Bases {
		if b.Group == "" {
			v.BaseTexts = append(v.BaseTexts, baseText(b))
		}
	}
	c.def.Kind.lay(&v, c, query)
	v.Empty = true
	for _, p := range c.Points {
		if p.Clusters != 0 || p.Sum != 0 || p.Hidden != "" {
			v.Empty = false
			break
		}
	}
	return v
}

// barsView lays out a shares chart: a bar per value and series (under
// each group's heading when grouped), and the table.
func barsView(v *chartView, c Chart, query string, grouped bool) {
	for _, s := range c.Series {
		v.Legend = append(v.Legend, legendItem{Label: s, Color: seriesColors[s], Fill: seriesFill[s]})
	}
	for _, l := range layouts {
		p := barsPanel(c, l, grouped)
		p.Label = c.Title
		v.Panels = append(v.Panels, p)
	}
	v.Table = sharesTable(c, query, grouped)
}

// activeView lays out the active clusters: a stack per series, and the
// table.
func activeView(v *chartView, c Chart) {
	v.Legend = activeLegend()
	for _, s := range c.Series {
		for _, l := range layouts {
			p := activePanel(c, s, l)
			p.Label = c.Title + ", " + s
			v.Panels = append(v.Panels, p)
		}
	}
	v.Table = timeTable(c, distinctLabels(c.Points), timeAxis{})
	v.Collapse = len(v.Table.Rows) > 16
}

// timeAxis says what a time chart's values are: shares (a percentage
// axis) or sums (not whole clusters), per week or per day.
type timeAxis struct {
	share, sums, weekly bool
}

// linesView lays out a time chart: a line per value in each series'
// panel, and the table.
func linesView(v *chartView, c Chart, ax timeAxis) {
	labels := distinctLabels(c.Points)
	for i, l := range labels {
		color, dash := lineStyle(i)
		v.Legend = append(v.Legend, legendItem{Label: l, Color: color, Dash: dash, Line: true})
	}
	for _, s := range c.Series {
		for _, l := range layouts {
			p := timePanel(c, s, labels, l, ax)
			p.Label = c.Title + ", " + s
			v.Panels = append(v.Panels, p)
		}
	}
	v.Table = timeTable(c, labels, ax)
	v.Collapse = len(v.Table.Rows) > 16
}

func distinctLabels(pts []Point) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range pts {
		if !seen[p.Label] {
			seen[p.Label] = true
			out = append(out, p.Label)
		}
	}
	return out
}

// rowKey is a shares chart's row: group and label.
type rowKey struct{ Group, Label string }

// barsPanel draws horizontal bars: a row per value (under its group's
// heading), a bar per series, the length its share. Wide: the label left
// of the bars; narrow: above them, the bars the whole width.
func barsPanel(c Chart, l layout, grouped bool) panel {
	left, right, barH, gap, headH, labelH := 200.0, 70.0, 11.0, 7.0, 22.0, 0.0
	if l.Narrow {
		left, right, barH, gap, headH, labelH = 4, 66, 13, 6, 22, 16
	}
	const margin = 6.0
	p := panel{Width: int(l.Width), Class: l.Class}
	rows, cells := byRow(c)
	y := margin
	group := "\x00"
	scale := l.Width - left - right
	for _, rk := range rows {
		if grouped && rk.Group != group {
			group = rk.Group
			t, full := label(rk.Group)
			p.Texts = append(p.Texts, svgText{X: 4, Y: y + 15, Text: t, Full: full, Class: "group", AnchorStart: true})
			y += headH
		}
		t, full := label(rk.Label)
		rowH := float64(len(c.Series))*barH + gap
		if l.Narrow {
			p.Texts = append(p.Texts, svgText{X: left, Y: y + 12, Text: t, Full: full, Class: "label", AnchorStart: true})
			y += labelH
		} else {
			p.Texts = append(p.Texts, svgText{X: left - 8, Y: y + rowH/2 + 2, Text: t, Full: full, Class: "label"})
		}
		for i, s := range c.Series {
			pt, ok := cells[rk][s]
			if !ok {
				continue
			}
			by := y + float64(i)*barH
			if pt.Hidden != "" {
				p.Texts = append(p.Texts, svgText{X: left + 4, Y: by + barH - 2, Text: pt.Hidden, Class: "value hidden", AnchorStart: true})
				continue
			}
			w := min(pt.Share, 1) * scale
			p.Bars = append(p.Bars, svgBar{X: left, Y: by, W: w, H: barH - 1, Fill: seriesFill[s],
				Tip: fmt.Sprintf("%s %s: %s", s, rowName(rk), ofShares{}.display(pt)), Point: pt})
			p.Texts = append(p.Texts, svgText{X: left + w + 4, Y: by + barH - 2, Text: percent(pt.Share), Class: "value", AnchorStart: true})
		}
		y += rowH
	}
	p.Grid = append(p.Grid, svgGrid{X1: left, Y1: 0, X2: left, Y2: y})
	p.Height = int(y + margin)
	return p
}

// rowName names a bar's row in its tooltip: "mod_mam rdbms".
func rowName(rk rowKey) string {
	if rk.Group != "" {
		return rk.Group + " " + rk.Label
	}
	return rk.Label
}

// byRow orders a shares chart's points by row, with each series' point.
func byRow(c Chart) ([]rowKey, map[rowKey]map[string]Point) {
	var rows []rowKey
	cells := map[rowKey]map[string]Point{}
	for _, pt := range c.Points {
		k := rowKey{pt.Group, pt.Label}
		if cells[k] == nil {
			cells[k] = map[string]Point{}
			rows = append(rows, k)
		}
		cells[k][pt.Series] = pt
	}
	// Rows appear in the first series' order, by group; a row only another
	// series has (a value folded in one, not the other) joins its group;
	// "other" ends its group.
	ordered := make([]rowKey, 0, len(rows))
	for _, g := range groupsInOrder(rows) {
		var others []rowKey
		for _, r := range rows {
			switch {
			case r.Group != g:
			case r.Label == otherLabel:
				others = append(others, r)
			default:
				ordered = append(ordered, r)
			}
		}
		ordered = append(ordered, others...)
	}
	return ordered, cells
}

func groupsInOrder(rows []rowKey) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range rows {
		if !seen[r.Group] {
			seen[r.Group] = true
			out = append(out, r.Group)
		}
	}
	return out
}

func sharesTable(c Chart, query string, grouped bool) table {
	t := table{}
	if grouped {
		t.Head = append(t.Head, tableCol{Text: "module"})
	}
	t.Head = append(t.Head, tableCol{Text: "value"})
	for _, s := range c.Series {
		t.Head = append(t.Head, tableCol{Text: s})
	}
	rows, cells := byRow(c)
	for _, rk := range rows {
		r := tableRow{}
		if grouped {
			r.Head = append(r.Head, rk.Group)
		}
		r.Head = append(r.Head, rk.Label)
		if c.def.link != nil {
			r.Link = c.def.link(rk, query)
		}
		for _, s := range c.Series {
			pt, ok := cells[rk][s]
			cell := tableCell{Point: pt, Has: ok && pt.Hidden == "", Text: "–"}
			if ok {
				cell.Text = ofShares{}.display(pt)
			}
			r.Cells = append(r.Cells, cell)
		}
		t.Rows = append(t.Rows, r)
	}
	// What the shares are of, and the part that could not report it.
	var baseRow, nrRow tableRow
	baseRow.Head, nrRow.Head = []string{"base"}, []string{notReportedLabel}
	if grouped {
		return t // each module's users are in the modules chart
	}
	hasNR := false
	for _, s := range c.Series {
		for _, b := range c.Bases {
			if b.Series != s {
				continue
			}
			txt := b.Hidden
			if txt == "" {
				txt = clustersText(b.Clusters) + " (" + b.Of + ")"
			}
			baseRow.Cells = append(baseRow.Cells, tableCell{Text: txt})
			nr := b.NotReportedHidden
			if nr == "" {
				nr = clustersText(b.NotReported)
			}
			hasNR = hasNR || b.NotReported > 0 || b.NotReportedHidden != ""
			nrRow.Cells = append(nrRow.Cells, tableCell{Text: nr})
		}
	}
	t.Rows = append(t.Rows, baseRow)
	if hasNR {
		t.Rows = append(t.Rows, nrRow)
	}
	return t
}

// plotArea is a time chart's frame in one layout.
type plotArea struct {
	left, top, w, h float64
	height          int
}

func plotOf(l layout, endLabels bool) plotArea {
	left, right, top, bottom, height := 48.0, 12.0, 12.0, 26.0, 220.0
	if l.Narrow {
		left, height = 40, 200
	}
	if endLabels && l.EndLabel {
		right = 100
	}
	return plotArea{left: left, top: top, w: l.Width - left - right, h: height - top - bottom, height: int(height)}
}

// seriesDays lists the days (or weeks) of a series' points, oldest first.
func seriesDays(c Chart, series string) []string {
	var days []string
	seen := map[string]bool{}
	for _, pt := range c.Points {
		if pt.Series == series && !seen[pt.Day] {
			seen[pt.Day] = true
			days = append(days, pt.Day)
		}
	}
	return days
}

// x places the i-th of n days.
func (a plotArea) x(i, n int) float64 {
	if n < 2 {
		return a.left + a.w/2
	}
	return a.left + a.w*float64(i)/float64(n-1)
}

// axes draws the value grid at round ticks up to most, and the dates at
// regular intervals; it returns the y of a value.
func (a plotArea) axes(p *panel, l layout, days []string, most float64, percentage, integer, weekly bool) func(float64) float64 {
	ticks := niceTicks(most, l.Ticks, integer)
	top := ticks[len(ticks)-1]
	yOf := func(v float64) float64 { return a.top + a.h - a.h*v/top }
	for _, t := range ticks {
		yy := yOf(t)
		p.Grid = append(p.Grid, svgGrid{X1: a.left, Y1: yy, X2: a.left + a.w, Y2: yy})
		p.Texts = append(p.Texts, svgText{X: a.left - 4, Y: yy + 4, Text: tickLabel(t, percentage), Class: "axis"})
	}
	for _, i := range dateTicks(days, l.Dates, weekly) {
		xx := a.x(i, len(days))
		p.Grid = append(p.Grid, svgGrid{X1: xx, Y1: a.top + a.h, X2: xx, Y2: a.top + a.h + 4})
		t := svgText{X: xx, Y: float64(p.Height) - 8, Text: shortDay(days[i]), Class: "axis date"}
		switch {
		case xx < a.left+40:
			t.AnchorStart = true
		case xx < a.left+a.w-40:
			t.Class += " middle"
		}
		p.Texts = append(p.Texts, t)
	}
	return yOf
}

// timePanel draws one series' lines over the days (or weeks).
func timePanel(c Chart, series string, labels []string, l layout, ax timeAxis) panel {
	area := plotOf(l, true)
	p := panel{Title: series, Width: int(l.Width), Height: area.height, Class: l.Class}
	days := seriesDays(c, series)
	var most float64
	byLabel := map[string][]Point{}
	for _, pt := range c.Points {
		if pt.Series != series {
			continue
		}
		most = max(most, c.def.Kind.primary(pt))
		byLabel[pt.Label] = append(byLabel[pt.Label], pt)
	}
	yOf := area.axes(&p, l, days, most, ax.share, !ax.sums, ax.weekly)
	dayIndex := map[string]int{}
	for i, d := range days {
		dayIndex[d] = i
	}
	// Dots (with their tooltips) while they are few enough to tell apart.
	dots := len(days) <= 60 && len(days)*len(labels) <= 360
	var ends []endLabel
	for li, lb := range labels {
		color, dash := lineStyle(li)
		var d strings.Builder
		gap := true
		lastY := -1.0
		for _, pt := range byLabel[lb] {
			if pt.Hidden != "" {
				gap = true // a hidden number is not drawn as zero
				continue
			}
			xx, yy := area.x(dayIndex[pt.Day], len(days)), yOf(c.def.Kind.primary(pt))
			if gap {
				fmt.Fprintf(&d, "M%.1f %.1f", xx, yy)
			} else {
				fmt.Fprintf(&d, "L%.1f %.1f", xx, yy)
			}
			gap = false
			lastY = yy
			if dots || pt.Partial {
				p.Dots = append(p.Dots, svgDot{X: xx, Y: yy, Color: color, Point: pt,
					Tip: fmt.Sprintf("%s %s %s: %s", series, pt.Day, lb, c.def.Kind.display(pt))})
			}
		}
		if d.Len() > 0 {
			p.Lines = append(p.Lines, svgLine{D: d.String(), Color: color, Dash: dash, Label: lb})
			if lastY >= 0 {
				ends = append(ends, endLabel{text: lb, y: lastY})
			}
		}
	}
	if l.EndLabel {
		p.Texts = append(p.Texts, placeEndLabels(ends, area)...)
	}
	return p
}

// endLabel is a line's name at its last point.
type endLabel struct {
	text string
	y    float64
}

// placeEndLabels writes the lines' names right of their ends, moved apart
// so that they do not overlap.
func placeEndLabels(ends []endLabel, a plotArea) []svgText {
	const lineH = 13.0
	slices.SortStableFunc(ends, func(x, y endLabel) int { return cmp.Compare(x.y, y.y) })
	for i := range ends {
		if i > 0 && ends[i].y < ends[i-1].y+lineH {
			ends[i].y = ends[i-1].y + lineH
		}
	}
	// Pushed below the frame: move the column up.
	if n := len(ends); n > 0 && ends[n-1].y > a.top+a.h+lineH {
		shift := ends[n-1].y - (a.top + a.h + lineH)
		for i := range ends {
			ends[i].y -= shift
		}
	}
	var out []svgText
	for _, e := range ends {
		t := truncate(e.text, 14)
		full := ""
		if t != e.text {
			full = e.text
		}
		out = append(out, svgText{X: a.left + a.w + 6, Y: e.y + 4, Text: t, Full: full, Class: "label end", AnchorStart: true})
	}
	return out
}

// activeLegend is the active clusters chart's legend: the stack's parts and
// its total.
func activeLegend() []legendItem {
	return []legendItem{
		{Label: facts.ClustersReturning, Color: palette[0], Fill: palette[0]},
		{Label: facts.ClustersNew, Color: palette[4], Fill: "url(#hatch-new)"},
		{Label: "active (total)", Color: "#1a202c", Line: true},
	}
}

// activePanel draws one series' active clusters per day as a stack:
// returning clusters below, new ones above, the total as the stack's top
// line. A day with a hidden part is a gap (nothing hidden is drawn).
func activePanel(c Chart, series string, l layout) panel {
	area := plotOf(l, false)
	p := panel{Title: series, Width: int(l.Width), Height: area.height, Class: l.Class}
	days := seriesDays(c, series)
	type day struct {
		ret, new Point
		shown    bool
	}
	byDay := make([]day, len(days))
	index := map[string]int{}
	for i, d := range days {
		index[d] = i
	}
	var most float64
	for _, pt := range c.Points {
		if pt.Series != series {
			continue
		}
		i := index[pt.Day]
		if pt.Label == facts.ClustersNew {
			byDay[i].new = pt
		} else {
			byDay[i].ret = pt
		}
	}
	for i := range byDay {
		byDay[i].shown = byDay[i].new.Hidden == "" && byDay[i].ret.Hidden == ""
		if byDay[i].shown {
			most = max(most, float64(byDay[i].new.Clusters+byDay[i].ret.Clusters))
		}
	}
	yOf := area.axes(&p, l, days, most, false, true, false)
	dots := len(days) <= 60
	// Runs of consecutive shown days, each drawn as areas and a line.
	var total strings.Builder
	for start := 0; start < len(byDay); {
		if !byDay[start].shown {
			start++
			continue
		}
		end := start
		for end+1 < len(byDay) && byDay[end+1].shown {
			end++
		}
		xs := func(i int) (float64, float64) { // a lone day gets some width
			x := area.x(i, len(days))
			if start == end {
				return x - 3, x + 3
			}
			return x, x
		}
		var ret, nw strings.Builder
		for i := start; i <= end; i++ {
			x0, x1 := xs(i)
			r := yOf(float64(byDay[i].ret.Clusters))
			t := yOf(float64(byDay[i].ret.Clusters + byDay[i].new.Clusters))
			cmd := "L"
			if i == start {
				cmd = "M"
			}
			fmt.Fprintf(&ret, "%s%.1f %.1f", cmd, x0, r)
			fmt.Fprintf(&nw, "%s%.1f %.1f", cmd, x0, t)
			fmt.Fprintf(&total, "%s%.1f %.1f", cmd, x0, t)
			if x1 != x0 {
				fmt.Fprintf(&ret, "L%.1f %.1f", x1, r)
				fmt.Fprintf(&nw, "L%.1f %.1f", x1, t)
				fmt.Fprintf(&total, "L%.1f %.1f", x1, t)
			}
		}
		base := yOf(0)
		for i := end; i >= start; i-- {
			x0, x1 := xs(i)
			fmt.Fprintf(&ret, "L%.1f %.1f", x1, base)
			if x1 != x0 {
				fmt.Fprintf(&ret, "L%.1f %.1f", x0, base)
			}
			r := yOf(float64(byDay[i].ret.Clusters))
			fmt.Fprintf(&nw, "L%.1f %.1f", x1, r)
			if x1 != x0 {
				fmt.Fprintf(&nw, "L%.1f %.1f", x0, r)
			}
		}
		p.Areas = append(p.Areas, svgArea{D: ret.String() + "Z", Fill: palette[0], Label: facts.ClustersReturning},
			svgArea{D: nw.String() + "Z", Fill: "url(#hatch-new)", Label: facts.ClustersNew})
		start = end + 1
	}
	if total.Len() > 0 {
		p.Lines = append(p.Lines, svgLine{D: total.String(), Color: "#1a202c", Label: "active (total)"})
	}
	for i, d := range byDay {
		if !d.shown || !(dots || d.new.Partial) {
			continue
		}
		x := area.x(i, len(days))
		sum := d.ret.Clusters + d.new.Clusters
		total := Point{Series: series, Label: "active (total)", Day: days[i], Clusters: sum, Partial: d.new.Partial}
		p.Dots = append(p.Dots, svgDot{X: x, Y: yOf(float64(sum)), Color: "#1a202c", Point: total,
			Tip: fmt.Sprintf("%s %s: %s active (%d returning, %d new)", series, days[i], clustersText(sum), d.ret.Clusters, d.new.Clusters)})
	}
	return p
}

// timeTable has a row per day (or week) and a column per series and label.
func timeTable(c Chart, labels []string, ax timeAxis) table {
	t := table{Head: []tableCol{{Text: "day"}}, Time: true, Sums: ax.sums}
	if ax.weekly {
		t.Head[0].Text = "week of"
	}
	groups := map[string]string{}
	for _, pt := range c.Points {
		groups[pt.Label] = pt.Group
	}
	for _, s := range c.Series {
		for _, l := range labels {
			t.Head = append(t.Head, tableCol{Text: s + " " + l, Series: s, Label: l, Group: groups[l]})
		}
	}
	type k struct{ day, series, label string }
	cells := map[k]Point{}
	var days []string
	seen := map[string]bool{}
	partial := map[string]bool{}
	for _, pt := range c.Points {
		cells[k{pt.Day, pt.Series, pt.Label}] = pt
		if !seen[pt.Day] {
			seen[pt.Day] = true
			days = append(days, pt.Day)
		}
		partial[pt.Day] = partial[pt.Day] || pt.Partial
	}
	for i := len(days) - 1; i >= 0; i-- { // newest first
		d := days[i]
		head := d
		if partial[d] {
			head += " (not over)"
		}
		r := tableRow{Day: d, Head: []string{head}}
		for _, s := range c.Series {
			for _, l := range labels {
				pt, ok := cells[k{d, s, l}]
				cell := tableCell{Point: pt, Has: ok && pt.Hidden == "", Text: "–"}
				if ok {
					cell.Text = c.def.Kind.display(pt)
				}
				r.Cells = append(r.Cells, cell)
			}
		}
		t.Rows = append(t.Rows, r)
	}
	return t
}

// wrap writes a name so that it may wrap after each "_" (module names)
// and "/" (backends), not inside a word.
func wrap(s string) template.HTML {
	e := template.HTMLEscapeString(s)
	e = strings.ReplaceAll(e, "_", "_<wbr>")
	return template.HTML(strings.ReplaceAll(e, "/", "/<wbr>"))
}

// svgFile is a chart as a standalone SVG (the chart's download): its
// title, the filter, the legend, and the wide drawing of each panel.
type svgFile struct {
	Title, Subtitle string
	Width, Height   int
	Legend          []svgLegend
	Panels          []filePanel
}

type svgLegend struct {
	legendItem
	X float64
}

type filePanel struct {
	panel
	Y float64
}

func newSVGFile(v chartView, subtitle string) svgFile {
	f := svgFile{Title: v.Title, Subtitle: subtitle, Width: svgWidth}
	x := 8.0
	for _, l := range v.Legend {
		f.Legend = append(f.Legend, svgLegend{legendItem: l, X: x})
		x += 30 + 6.5*float64(len([]rune(l.Label)))
	}
	y := 66.0
	for _, p := range v.Panels {
		if p.Class != wideLayout.Class {
			continue
		}
		f.Panels = append(f.Panels, filePanel{panel: p, Y: y})
		y += float64(p.Height) + 24
	}
	f.Height = int(y + 8)
	return f
}
