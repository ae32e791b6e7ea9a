package dashboard

import (
	"strconv"
	"strings"
)

// Colours that colour-blind readers can tell apart (Okabe and Ito's
// palette, without its yellow, too light on white), each with a second cue
// wherever colour alone would separate series: CI's bars are hatched, each
// line of a time chart has its own dash and is labelled at its end.

// palette is the lines' and areas' colours, in turn.
var palette = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#8C6D1F"}

// dashes are the lines' dash patterns, in the same turn as palette.
var dashes = []string{"", "7 3", "2 3", "9 3 2 3", "4 4", "1 2", "12 4", "6 2 2 2"}

// seriesColors colour the property kinds; seriesFill is what a bar is
// filled with (CI: hatched).
var seriesColors = map[string]string{"production": "#0072B2", "ci": "#D55E00"}

var seriesFill = map[string]string{"production": "#0072B2", "ci": "url(#hatch-ci)"}

// otherColor is the colour of "other", "not reported" and what is hidden.
const otherColor = "#9AA3AE"

// lineStyle is the colour and dash of the i-th line of a chart.
func lineStyle(i int) (color, dash string) {
	return palette[i%len(palette)], dashes[i%len(dashes)]
}

// releaseColor is a release line's colour, the same whatever the period
// and whichever other lines are drawn: picked by its numbers, so that two
// consecutive lines never share one.
func releaseColor(line string) string {
	major, minor, ok := releaseNumbers(line)
	if !ok {
		return otherColor
	}
	return palette[(major*10+minor)%len(palette)]
}

// releaseNumbers reads "6.5" (a release line) as 6 and 5.
func releaseNumbers(line string) (major, minor int, ok bool) {
	a, b, found := strings.Cut(line, ".")
	if !found {
		return 0, 0, false
	}
	x, err1 := strconv.Atoi(a)
	y, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || x < 0 || y < 0 || x > 999 || y > 999 {
		return 0, 0, false
	}
	return x, y, true
}

// releaseLine is the release line of a version: "6.5" for "6.5.0" and
// "6.5.1-rc1"; a version of another form is its own line.
func releaseLine(version string) string {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return version
	}
	minor := parts[1]
	if i := strings.IndexFunc(minor, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minor = minor[:i]
	}
	line := parts[0] + "." + minor
	if _, _, ok := releaseNumbers(line); !ok {
		return version
	}
	return line
}
