package dashboard

import (
	"fmt"
	"strconv"
	"strings"
)

// What the templates draw: the geometry of each chart's SVG, computed here,
// and its table. Every text comes from an untrusted sender: the templates
// escape it (SVG text nodes included); long labels are cut, the whole text
// kept in a <title>.

const (
	labelRunes = 28 // longer labels are cut, the full text in a <title>
	svgWidth   = 640
)

var seriesColors = map[string]string{"production": "#2b6cb0", "ci": "#c05621"}

// lineColors are the colors of a time chart's lines, in turn.
var lineColors = []string{"#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#2c7a7b", "#975a16", "#4a5568"}

// chartView is one chart as a page shows it.
type chartView struct {
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
	// Collapse: the table is long (a time chart's), shown on demand.
	Collapse bool
	// SeriesColors colors the legend of bar charts.
	SeriesColors map[string]string
}

type legendItem struct{ Label, Color string }

// panel is one SVG: a bar chart, or one series' time chart.
type panel struct {
	Title string
	// Label names the SVG for screen readers.
	Label         string
	Width, Height int
	Texts         []svgText
	Bars          []svgBar
	Lines         []svgLine
	Dots          []svgDot
	Grid          []svgGrid
}

type svgText struct {
	X, Y        float64
	Text, Full  string
	Class       string
	AnchorStart bool
}

type svgBar struct {
	X, Y, W, H float64
	Color      string
	Tip        string
	Point      Point
}

type svgLine struct {
	D     string
	Color string
	Label string
}

type svgDot struct {
	X, Y  float64
	Color string
	Tip   string
	Point Point
}

type svgGrid struct{ X1, Y1, X2, Y2 float64 }

// table is the chart's numbers beside it. A shares table's cells carry
// their point whole; a time table's cells carry the numbers only, their
// series and label on the column's heading and their day on the row
// (a year of days would otherwise repeat them thousands of times).
type table struct {
	Head []tableCol
	Rows []tableRow
	// Time: a time table; Sums: its cells are sums (else clusters and shares).
	Time, Sums bool
}

type tableCol struct {
	Text          string
	Series, Label string
}

type tableRow struct {
	Day   string
	Head  []string
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

// primary is the number a point's bar or line shows.
func primary(t chartType, p Point) float64 {
	switch t {
	case shares, weekly:
		return p.Share
	case sums:
		return float64(p.Sum)
	}
	return float64(p.Clusters)
}

// display is a point's numbers in words: "12 clusters (3.4 %)".
func display(t chartType, p Point) string {
	if p.Hidden != "" {
		return p.Hidden
	}
	s := ""
	switch t {
	case shares, weekly:
		s = fmt.Sprintf("%s (%s)", clustersText(p.Clusters), percent(p.Share))
	case sums:
		s = strconv.FormatInt(p.Sum, 10)
	default:
		s = clustersText(p.Clusters)
	}
	if p.Partial {
		s += " (so far)"
	}
	return s
}

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

// newChartView lays a chart out.
func newChartView(c Chart, query string) chartView {
	v := chartView{Chart: c, About: c.def.About, SeriesColors: seriesColors,
		APIJSON: "/api/v1/" + c.ID + ".json", APICSV: "/api/v1/" + c.ID + ".csv"}
	if query != "" {
		v.APIJSON += "?" + query
		v.APICSV += "?" + query
	}
	v.Unit = c.Unit
	for _, b := range c.Bases {
		if b.Group == "" {
			v.BaseTexts = append(v.BaseTexts, baseText(b))
		}
	}
	switch c.def.Type {
	case shares:
		v.Panels = []panel{barsPanel(c)}
		v.Panels[0].Label = c.Title
		v.Table = sharesTable(c)
	default:
		labels := distinctLabels(c.Points)
		for i, l := range labels {
			v.Legend = append(v.Legend, legendItem{Label: l, Color: lineColors[i%len(lineColors)]})
		}
		for _, s := range c.Series {
			p := timePanel(c, s, labels)
			p.Label = c.Title + ", " + s
			v.Panels = append(v.Panels, p)
		}
		v.Table = timeTable(c, labels)
		v.Collapse = len(v.Table.Rows) > 16
	}
	v.Empty = true
	for _, p := range c.Points {
		if p.Clusters != 0 || p.Sum != 0 || p.Hidden != "" {
			v.Empty = false
			break
		}
	}
	return v
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
// heading), a bar per series, the length its share.
func barsPanel(c Chart) panel {
	const (
		left   = 200.0
		right  = 70.0
		barH   = 11.0
		gap    = 7.0
		headH  = 22.0
		margin = 6.0
	)
	p := panel{Width: svgWidth}
	rows, cells := byRow(c)
	y := margin
	group := "\x00"
	scale := float64(svgWidth) - left - right
	for _, rk := range rows {
		if c.def.Grouped && rk.Group != group {
			group = rk.Group
			t, full := label(rk.Group)
			p.Texts = append(p.Texts, svgText{X: 4, Y: y + 15, Text: t, Full: full, Class: "group", AnchorStart: true})
			y += headH
		}
		rowH := float64(len(c.Series))*barH + gap
		t, full := label(rk.Label)
		p.Texts = append(p.Texts, svgText{X: left - 8, Y: y + rowH/2 + 2, Text: t, Full: full, Class: "label"})
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
			p.Bars = append(p.Bars, svgBar{X: left, Y: by, W: w, H: barH - 1, Color: seriesColors[s],
				Tip: fmt.Sprintf("%s %s: %s", s, rk.Label, display(shares, pt)), Point: pt})
			p.Texts = append(p.Texts, svgText{X: left + w + 4, Y: by + barH - 2, Text: percent(pt.Share), Class: "value", AnchorStart: true})
		}
		y += rowH
	}
	p.Grid = append(p.Grid, svgGrid{X1: left, Y1: 0, X2: left, Y2: y})
	p.Height = int(y + margin)
	return p
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

func sharesTable(c Chart) table {
	t := table{}
	if c.def.Grouped {
		t.Head = append(t.Head, tableCol{Text: "module"})
	}
	t.Head = append(t.Head, tableCol{Text: "value"})
	for _, s := range c.Series {
		t.Head = append(t.Head, tableCol{Text: s})
	}
	rows, cells := byRow(c)
	for _, rk := range rows {
		r := tableRow{}
		if c.def.Grouped {
			r.Head = append(r.Head, rk.Group)
		}
		r.Head = append(r.Head, rk.Label)
		for _, s := range c.Series {
			pt, ok := cells[rk][s]
			cell := tableCell{Point: pt, Has: ok && pt.Hidden == "", Text: "–"}
			if ok {
				cell.Text = display(shares, pt)
			}
			r.Cells = append(r.Cells, cell)
		}
		t.Rows = append(t.Rows, r)
	}
	// What the shares are of, and the part that could not report it.
	var baseRow, nrRow tableRow
	baseRow.Head, nrRow.Head = []string{"base"}, []string{notReportedLabel}
	if c.def.Grouped {
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

// timePanel draws one series' lines over the days (or weeks).
func timePanel(c Chart, series string, labels []string) panel {
	const (
		left   = 48.0
		right  = 12.0
		top    = 12.0
		bottom = 26.0
		height = 220.0
	)
	p := panel{Title: series, Width: svgWidth, Height: int(height)}
	var days []string
	seenDay := map[string]bool{}
	var most float64
	byLabel := map[string][]Point{}
	for _, pt := range c.Points {
		if pt.Series != series {
			continue
		}
		if !seenDay[pt.Day] {
			seenDay[pt.Day] = true
			days = append(days, pt.Day)
		}
		most = max(most, primary(c.def.Type, pt))
		byLabel[pt.Label] = append(byLabel[pt.Label], pt)
	}
	if most == 0 {
		most = 1
	}
	plotW := float64(svgWidth) - left - right
	plotH := height - top - bottom
	x := func(i int) float64 {
		if len(days) < 2 {
			return left + plotW/2
		}
		return left + plotW*float64(i)/float64(len(days)-1)
	}
	yOf := func(v float64) float64 { return top + plotH - plotH*v/most }
	// Grid and axis labels: 0, half, the maximum.
	for _, frac := range []float64{0, 0.5, 1} {
		yy := yOf(most * frac)
		p.Grid = append(p.Grid, svgGrid{X1: left, Y1: yy, X2: left + plotW, Y2: yy})
		p.Texts = append(p.Texts, svgText{X: left - 4, Y: yy + 4, Text: axisLabel(c.def.Type, most*frac), Class: "axis"})
	}
	if len(days) > 0 {
		p.Texts = append(p.Texts, svgText{X: left, Y: height - 8, Text: days[0], Class: "axis", AnchorStart: true})
		p.Texts = append(p.Texts, svgText{X: left + plotW, Y: height - 8, Text: days[len(days)-1], Class: "axis"})
	}
	dayIndex := map[string]int{}
	for i, d := range days {
		dayIndex[d] = i
	}
	// Dots (with their tooltips) while they are few enough to tell apart.
	dots := len(days) <= 60 && len(days)*len(labels) <= 360
	for li, l := range labels {
		color := lineColors[li%len(lineColors)]
		var d strings.Builder
		gap := true
		for _, pt := range byLabel[l] {
			if pt.Hidden != "" {
				gap = true // a hidden number is not drawn as zero
				continue
			}
			xx, yy := x(dayIndex[pt.Day]), yOf(primary(c.def.Type, pt))
			if gap {
				fmt.Fprintf(&d, "M%.1f %.1f", xx, yy)
			} else {
				fmt.Fprintf(&d, "L%.1f %.1f", xx, yy)
			}
			gap = false
			if dots || pt.Partial {
				p.Dots = append(p.Dots, svgDot{X: xx, Y: yy, Color: color, Point: pt,
					Tip: fmt.Sprintf("%s %s %s: %s", series, pt.Day, l, display(c.def.Type, pt))})
			}
		}
		if d.Len() > 0 {
			p.Lines = append(p.Lines, svgLine{D: d.String(), Color: color, Label: l})
		}
	}
	return p
}

func axisLabel(t chartType, v float64) string {
	if t == weekly {
		return strconv.FormatFloat(v*100, 'f', 0, 64) + "%"
	}
	if v >= 10000 {
		return strconv.FormatFloat(v/1000, 'f', 0, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// timeTable has a row per day (or week) and a column per series and label.
func timeTable(c Chart, labels []string) table {
	t := table{Head: []tableCol{{Text: "day"}}, Time: true, Sums: c.def.Type == sums}
	if c.def.Type == weekly {
		t.Head[0].Text = "week of"
	}
	for _, s := range c.Series {
		for _, l := range labels {
			t.Head = append(t.Head, tableCol{Text: s + " " + l, Series: s, Label: l})
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
					cell.Text = display(c.def.Type, pt)
				}
				r.Cells = append(r.Cells, cell)
			}
		}
		t.Rows = append(t.Rows, r)
	}
	return t
}
