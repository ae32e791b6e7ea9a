package dashboard

import (
	"slices"
	"strconv"
	"strings"

	"github.com/mim-metrics/mim-metrics/census"
	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

// Supported and older release lines: per ISO week, the distinct clusters
// that ran a version of a supported line, and those that ran any other
// version, as shares of the week's active clusters. The supported lines
// are the newest supportedCount release lines (of MongooseIM's numbered
// form) that at least K clusters of a series ran in the period: the same
// threshold in public and for the admin, so that both name the same lines
// and no line of fewer than K clusters is named. A cluster that moved from
// an older line to a supported one during a week counts under both.

// supportDimension is the chart's dimension: not one reported, but each
// profile's versions mapped to supportedLabel or olderLabel.
const supportDimension = "\x00support"

const supportedCount = 2

const (
	supportedLabel = "supported line"
	olderLabel     = "older line"
)

// supportMark prefixes the support labels added to the version
// dimension (census counts reported dimensions only; a reported value
// cannot start with a NUL).
const supportMark = "\x00support "

// supportedLines lists the newest supportedCount release lines that at
// least k clusters of a kind ran in some week of the period, newest first
// (as the version adoption chart names a line in public).
func supportedLines(set store.RunSet, f filter, k int64) []string {
	var out []string
	for _, w := range census.Weekly(withReleaseLines(set), f.From, f.To, f.Version, facts.Version) {
		for _, s := range f.series() {
			if w.Counts[s] == nil {
				continue
			}
			_, lines := splitVersions(w.Counts[s].Values[facts.Version])
			for l, n := range lines {
				if _, _, ok := releaseNumbers(l); ok && int64(n) >= k && !slices.Contains(out, l) {
					out = append(out, l)
				}
			}
		}
	}
	slices.SortFunc(out, newestFirst)
	return out[:min(len(out), supportedCount)]
}

// countSupport counts the weeks of the supported lines chart: each
// profile's versions get supportedLabel or olderLabel as one more
// (marked) version, the weeks are counted, and the marked values become
// the weeks' supportDimension.
func (in *pageInput) countSupport(set store.RunSet, id string, k int64) {
	f := in.f
	in.supported = supportedLines(set, f, k)
	marked := store.RunSet{Runs: set.Runs, Profiles: make(map[int64][]facts.Fact, len(set.Profiles))}
	for id, fs := range set.Profiles {
		out := slices.Clone(fs)
		for _, v := range factValues(fs, facts.Version) {
			label := olderLabel
			if slices.Contains(in.supported, releaseLine(v)) {
				label = supportedLabel
			}
			if mark := (facts.Fact{Dimension: facts.Version, Value: supportMark + label}); !slices.Contains(out, mark) {
				out = append(out, mark)
			}
		}
		marked.Profiles[id] = out
	}
	weeks := census.Weekly(marked, f.From, f.To, f.Version, facts.Version)
	in.weeks[id] = weeks
	for _, w := range weeks {
		for _, c := range w.Counts {
			support := map[string]int{}
			for v, n := range c.Values[facts.Version] {
				if label, ok := strings.CutPrefix(v, supportMark); ok {
					support[label] = n
				}
			}
			c.Values = map[string]map[string]int{supportDimension: support}
		}
	}
}

// supportUnit is the chart's unit, naming the supported lines.
func supportUnit(lines []string, k int64) string {
	u := Weekly.unit() + "; a supported line is one of the newest " + strconv.Itoa(supportedCount) +
		" release lines run by at least " + strconv.FormatInt(k, 10) + " clusters in some week of the period; any other version is on an older line"
	if len(lines) == 0 {
		return u + " (none in this period)"
	}
	return u + ": " + strings.Join(lines, " and ")
}
