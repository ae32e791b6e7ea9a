package dashboard

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/mim-metrics/mim-metrics/census"
	"github.com/mim-metrics/mim-metrics/disclosure"
	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

// Version adoption at a glance: per ISO week, the distinct clusters of
// each release line (6.5, 6.4, …) and of each version inside it. A line's
// clusters are counted as distinct clusters too (not as the sum of its
// versions: a cluster upgraded from 6.5.0 to 6.5.1 in the week is one
// cluster of 6.5), from the same runs: each profile's versions get their
// line as an extra value (lineValue) before the weeks are counted.
//
// Points: a line's have no Group and the line as Label; a version's have
// its line as Group. In the public view a line, and each line's versions
// (with its unnamed versions as an "other" part), are tables of their own
// for the disclosure rule, beside the week's table of every version: a
// version hidden by one of them is hidden.

// lineMark prefixes the release-line values added to the version
// dimension (a reported value cannot start with a NUL).
const lineMark = "\x00line "

func lineValue(line string) string { return lineMark + line }

// withReleaseLines returns the run set with, in each profile, the release
// line of each version it ran as one more version value.
func withReleaseLines(set store.RunSet) store.RunSet {
	out := store.RunSet{Runs: set.Runs, Profiles: make(map[int64][]facts.Fact, len(set.Profiles))}
	for id, fs := range set.Profiles {
		var lines []string
		for _, f := range fs {
			if f.Dimension == facts.Version {
				if l := releaseLine(f.Value); !slices.Contains(lines, l) {
					lines = append(lines, l)
				}
			}
		}
		if len(lines) == 0 {
			out.Profiles[id] = fs
			continue
		}
		with := make([]facts.Fact, 0, len(fs)+len(lines))
		with = append(with, fs...)
		for _, l := range lines {
			with = append(with, facts.Fact{Dimension: facts.Version, Value: lineValue(l)})
		}
		out.Profiles[id] = with
	}
	return out
}

// splitVersions separates a week's version values into versions and lines.
func splitVersions(values map[string]int) (versions, lines map[string]int) {
	versions, lines = map[string]int{}, map[string]int{}
	for v, n := range values {
		if l, ok := strings.CutPrefix(v, lineMark); ok {
			lines[l] = n
		} else {
			versions[v] = n
		}
	}
	return versions, lines
}

// newestFirst orders versions or lines, newest first; those of another
// form than MongooseIM's numbers last.
func newestFirst(a, b string) int {
	_, _, okA := releaseNumbers(releaseLine(a))
	_, _, okB := releaseNumbers(releaseLine(b))
	switch {
	case okA && !okB:
		return -1
	case okB && !okA:
		return 1
	}
	return compareVersions(b, a)
}

// adoption computes the version adoption points for s: per week, each
// named release line, each line's named versions, and an "other" of the
// rest.
func (b builder) adoption(c *Chart, s store.Kind, weeks []census.Week) {
	versions, lines := b.adoptionLabels(weeks, s)
	for _, w := range weeks {
		if w.To.Before(b.in.first) {
			continue // nothing is drawn before the first report
		}
		b.adoptionWeek(c, s, w, versions, lines)
	}
}

// adoptionLabels lists the versions and lines of the period, newest
// first; in public only those that some week has k clusters of.
func (b builder) adoptionLabels(weeks []census.Week, s store.Kind) (versions, lines []string) {
	most, mostLine := map[string]int{}, map[string]int{}
	for _, w := range weeks {
		if counts := w.Counts[s]; counts != nil {
			weekVersions, weekLines := splitVersions(counts.Values[facts.Version])
			for v, n := range weekVersions {
				most[v] = max(most[v], n)
			}
			for l, n := range weekLines {
				mostLine[l] = max(mostLine[l], n)
			}
		}
	}
	return b.nameable(most), b.nameable(mostLine)
}

// nameable lists the values the view may name, given each one's most
// clusters in a week: every one for the admin, those of k in public.
func (b builder) nameable(most map[string]int) []string {
	var out []string
	for v, n := range most {
		if !b.hide || int64(n) >= b.k {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, newestFirst)
	return out
}

// adoptionWeek adds one week's points for s: the named lines and
// versions, each as a share of the week's active clusters.
func (b builder) adoptionWeek(c *Chart, s store.Kind, w census.Week, versions, lines []string) {
	var active int64
	var weekVersions, weekLines map[string]int
	if counts := w.Counts[s]; counts != nil {
		active = int64(counts.Active)
		weekVersions, weekLines = splitVersions(counts.Values[facts.Version])
	}
	partial := !w.Monday.AddDate(0, 0, 6).Before(b.in.today)
	add := func(group, label string, n int64, v disclosure.Verdict) {
		p := b.sharePoint(s, group, label, n, active, v)
		p.Day, p.Partial = dayKey(w.Monday), partial
		c.Points = append(c.Points, p)
	}
	// The lines, and every version, of the week's active clusters.
	lineTable, lineOther := namedTable(lines, weekLines, active)
	lineVerdicts := b.protect(lineTable).Cells
	versionTable, versionOther := namedTable(versions, weekVersions, active)
	versionVerdicts := b.protect(versionTable).Cells
	for i, l := range lines {
		add("", l, int64(weekLines[l]), lineVerdicts[i])
		idx := versionsOfLine(l, versions)
		inLine := b.protect(lineTableOf(l, idx, versions, weekVersions, weekLines)).Cells
		for j, vi := range idx {
			v := worst(versionVerdicts[vi], inLine[j])
			if lineVerdicts[i] != disclosure.Shown && v == disclosure.Shown {
				v = disclosure.Withheld // the line's versions would add up to the hidden line
			}
			add(l, versions[vi], int64(weekVersions[versions[vi]]), v)
		}
	}
	// Versions of lines left unnamed still count in the week's table.
	for vi, v := range versions {
		if !slices.Contains(lines, releaseLine(v)) {
			add(releaseLine(v), v, int64(weekVersions[v]), worst(versionVerdicts[vi], disclosure.Withheld))
		}
	}
	if lineOther > 0 {
		add("", otherLabel, lineOther, lineVerdicts[len(lines)])
	}
	if versionOther > 0 {
		add(otherLabel, otherLabel, versionOther, versionVerdicts[len(versions)])
	}
}

// versionsOfLine lists the indexes of the line's versions among versions.
func versionsOfLine(line string, versions []string) []int {
	var idx []int
	for vi, v := range versions {
		if releaseLine(v) == line {
			idx = append(idx, vi)
		}
	}
	return idx
}

// lineTableOf is a line's table of the week: its named versions (idx,
// among versions) and an "other" of its unnamed ones, out of the line's
// clusters. A version hidden by it or by the week's table of every
// version is hidden.
func lineTableOf(line string, idx []int, versions []string, weekVersions, weekLines map[string]int) disclosure.Table {
	t := disclosure.Table{Total: int64(weekLines[line]), Partition: true}
	for _, vi := range idx {
		t.Cells = append(t.Cells, disclosure.Cell{N: int64(weekVersions[versions[vi]])})
	}
	var unnamed int64
	for v, n := range weekVersions {
		if releaseLine(v) == line && !slices.Contains(versions, v) {
			unnamed += int64(n)
		}
	}
	if unnamed > 0 {
		t.Cells = append(t.Cells, disclosure.Cell{N: unnamed, Other: true})
	}
	return t
}

// worst is the verdict that hides more.
func worst(a, b disclosure.Verdict) disclosure.Verdict {
	if a == disclosure.Rare || b == disclosure.Rare {
		return disclosure.Rare
	}
	return max(a, b)
}

// adoptionView lays out the version adoption chart: per series, a 100 %
// stacked area of the release lines (newest on top, each line's colour
// fixed, its name at its end), and a table of the lines with their
// versions under them.
func adoptionView(c Chart) ([]legendItem, []panel, table) {
	lines, versionsOf := adoptionLines(c)
	latest := ""
	for _, l := range lines {
		if _, _, ok := releaseNumbers(l); ok {
			latest = l
			break
		}
	}
	var legend []legendItem
	for _, l := range lines {
		name := l
		if l == latest {
			name += " (latest)"
		}
		legend = append(legend, legendItem{Label: name, Color: lineColor(l), Fill: lineColor(l)})
	}
	var panels []panel
	for _, s := range c.Series {
		for _, l := range layouts {
			p := adoptionPanel(c, s, lines, latest, l)
			p.Label = c.Title + ", " + s
			panels = append(panels, p)
		}
	}
	return legend, panels, adoptionTable(c, lines, versionsOf)
}

// adoptionLines lists the chart's lines, newest first ("other" last), and
// the versions drawn of each line (or of a line left unnamed).
func adoptionLines(c Chart) ([]string, map[string][]string) {
	var lines []string
	versionsOf := map[string][]string{}
	for _, p := range c.Points {
		if p.Group == "" {
			if !slices.Contains(lines, p.Label) {
				lines = append(lines, p.Label)
			}
		} else if !slices.Contains(versionsOf[p.Group], p.Label) {
			versionsOf[p.Group] = append(versionsOf[p.Group], p.Label)
		}
	}
	slices.SortFunc(lines, otherLast)
	for _, vs := range versionsOf {
		slices.SortFunc(vs, otherLast)
	}
	return lines, versionsOf
}

// otherLast orders lines or versions newest first, "other" last.
func otherLast(a, b string) int {
	switch {
	case a == otherLabel:
		return 1
	case b == otherLabel:
		return -1
	}
	return newestFirst(a, b)
}

// adoptionCol is a column of the adoption table: a line's (no group) or
// a version's.
type adoptionCol struct{ series, group, label string }

// adoptionTable has a row per week, newest first, and per series a column
// per line followed by its versions; then the versions of lines left
// unnamed (public).
func adoptionTable(c Chart, lines []string, versionsOf map[string][]string) table {
	t := table{Head: []tableCol{{Text: "week of"}}, Time: true, Groups: []tableGroup{{Text: "", Span: 1}}}
	var cols []adoptionCol
	for _, s := range c.Series {
		for _, l := range lines {
			cols = append(cols, adoptionCol{s, "", l})
			t.Head = append(t.Head, tableCol{Text: "all " + l, Series: s, Label: l})
			for _, v := range versionsOf[l] {
				cols = append(cols, adoptionCol{s, l, v})
				t.Head = append(t.Head, tableCol{Text: v, Series: s, Label: v, Group: l})
			}
			t.Groups = append(t.Groups, tableGroup{Text: s + " " + l, Span: 1 + len(versionsOf[l])})
		}
	}
	for _, g := range sortedKeys(versionsOf) {
		if slices.Contains(lines, g) {
			continue
		}
		for _, s := range c.Series {
			for _, v := range versionsOf[g] {
				cols = append(cols, adoptionCol{s, g, v})
				t.Head = append(t.Head, tableCol{Text: v, Series: s, Label: v, Group: g})
				t.Groups = append(t.Groups, tableGroup{Text: s + " " + g, Span: 1})
			}
		}
	}
	type key struct{ day, series, group, label string }
	cells := map[key]Point{}
	var days []string
	partial := map[string]bool{}
	for _, p := range c.Points {
		cells[key{p.Day, p.Series, p.Group, p.Label}] = p
		if !slices.Contains(days, p.Day) {
			days = append(days, p.Day)
		}
		partial[p.Day] = partial[p.Day] || p.Partial
	}
	for i := len(days) - 1; i >= 0; i-- {
		d := days[i]
		head := d
		if partial[d] {
			head += " (not over)"
		}
		r := tableRow{Day: d, Head: []string{head}}
		for _, cl := range cols {
			pt, ok := cells[key{d, cl.series, cl.group, cl.label}]
			cell := tableCell{Point: pt, Has: ok && pt.Hidden == "", Text: "–"}
			if ok {
				cell.Text = ofShares{}.display(pt)
			}
			r.Cells = append(r.Cells, cell)
		}
		t.Rows = append(t.Rows, r)
	}
	return t
}

// lineColor is a release line's colour; "other" is grey.
func lineColor(line string) string {
	if line == otherLabel {
		return otherColor
	}
	return releaseColor(line)
}

// adoptionPanel draws one series' release lines as a 100 % stack per week:
// the newest line on top. The lines' shares may add up to more than 100 %
// (a cluster that moved to a new line during the week counts in both): the
// stack is then scaled to 100 %. A part hidden in public is drawn as one
// grey band ("fewer than K or withheld"), never as a number.
func adoptionPanel(c Chart, series string, lines []string, latest string, l layout) panel {
	area := plotOf(l, true)
	p := panel{Title: series, Width: int(l.Width), Height: area.height, Class: l.Class}
	days := seriesDays(c, series)
	yOf := area.axes(&p, l, days, 1, true, false, true)
	share := map[[2]string]Point{}
	for _, pt := range c.Points {
		if pt.Series == series && pt.Group == "" {
			share[[2]string{pt.Day, pt.Label}] = pt
		}
	}
	// Bottom to top: the oldest line first; the hidden band on top.
	stack := slices.Clone(lines)
	slices.Reverse(stack)
	stack = append(stack, hiddenBand)
	tops := make([][]float64, len(stack)) // per band, per day: its top
	for i := range tops {
		tops[i] = make([]float64, len(days))
	}
	for di, d := range days {
		var sum float64
		for _, l := range lines {
			if pt := share[[2]string{d, l}]; pt.Hidden == "" {
				sum += pt.Share
			}
		}
		scale := 1.0
		if sum > 1 {
			scale = 1 / sum
		}
		acc := 0.0
		for bi, l := range stack {
			if l == hiddenBand {
				acc = 1
			} else if pt := share[[2]string{d, l}]; pt.Hidden == "" {
				acc += pt.Share * scale
			}
			tops[bi][di] = min(acc, 1)
		}
	}
	var ends []endLabel
	for bi, l := range stack {
		var path strings.Builder
		for di := range days {
			cmd := "L"
			if di == 0 {
				cmd = "M"
			}
			fmt.Fprintf(&path, "%s%.1f %.1f", cmd, area.x(di, len(days)), yOf(tops[bi][di]))
		}
		for di := len(days) - 1; di >= 0; di-- {
			below := 0.0
			if bi > 0 {
				below = tops[bi-1][di]
			}
			fmt.Fprintf(&path, "L%.1f %.1f", area.x(di, len(days)), yOf(below))
		}
		if len(days) == 1 { // one week: a band across the plot
			path.Reset()
			below := 0.0
			if bi > 0 {
				below = tops[bi-1][0]
			}
			fmt.Fprintf(&path, "M%.1f %.1fL%.1f %.1fL%.1f %.1fL%.1f %.1f", area.left, yOf(tops[bi][0]), area.left+area.w, yOf(tops[bi][0]),
				area.left+area.w, yOf(below), area.left, yOf(below))
		}
		fill, name := lineColor(l), l
		if l == hiddenBand {
			fill, name = "url(#hatch-hidden)", "hidden (fewer than K or withheld)"
		}
		last := len(days) - 1
		if last < 0 {
			continue
		}
		below := 0.0
		if bi > 0 {
			below = tops[bi-1][last]
		}
		if tops[bi][last]-below <= 0.001 && l == hiddenBand {
			continue
		}
		p.Areas = append(p.Areas, svgArea{D: path.String() + "Z", Fill: fill, Label: name})
		if tops[bi][last]-below > 0.02 && l != hiddenBand {
			text := l
			if l == latest {
				text += " latest"
			}
			ends = append(ends, endLabel{text: text, y: yOf((tops[bi][last] + below) / 2)})
		}
	}
	if l.EndLabel {
		p.Texts = append(p.Texts, placeEndLabels(ends, area)...)
	}
	// Each week's lines as focusable marks: their values, announced.
	for di, d := range days {
		for _, l := range lines {
			pt, ok := share[[2]string{d, l}]
			if !ok || pt.Hidden != "" || pt.Clusters == 0 {
				continue
			}
			bi := slices.Index(stack, l)
			below := 0.0
			if bi > 0 {
				below = tops[bi-1][di]
			}
			p.Dots = append(p.Dots, svgDot{X: area.x(di, len(days)), Y: yOf((tops[bi][di] + below) / 2), Color: lineColor(l), Point: pt,
				Tip: fmt.Sprintf("%s week of %s, %s: %s", series, d, l, ofShares{}.display(pt))})
		}
	}
	slices.SortStableFunc(p.Dots, func(a, b svgDot) int { return cmp.Compare(a.X, b.X) })
	return p
}

// hiddenBand is the stack's band of what the public view hides.
const hiddenBand = "\x00hidden"

// namedTable is the partition of total into the named values' counts, in
// their order, and an "other" of the values not named (its count too).
func namedTable(names []string, counts map[string]int, total int64) (disclosure.Table, int64) {
	t := disclosure.Table{Total: total, Partition: true}
	var other int64
	for v, n := range counts {
		if !slices.Contains(names, v) {
			other += int64(n)
		}
	}
	for _, v := range names {
		t.Cells = append(t.Cells, disclosure.Cell{N: int64(counts[v])})
	}
	if other > 0 {
		t.Cells = append(t.Cells, disclosure.Cell{N: other, Other: true})
	}
	return t, other
}
