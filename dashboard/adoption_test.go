package dashboard

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

// A release line counts distinct clusters: one upgraded from 6.5.0 to
// 6.5.1 in the week is one cluster of 6.5, under both versions.
func TestReleaseLinesCountDistinctClusters(t *testing.T) {
	set := runSet(
		fakeCluster{id: "a", kind: store.Production, from: 3, to: 0, facts: factsOf(facts.Version, "6.5.0", facts.Version, "6.5.1")},
		fakeCluster{id: "b", kind: store.Production, from: 3, to: 0, facts: factsOf(facts.Version, "6.5.0")},
		fakeCluster{id: "c", kind: store.Production, from: 3, to: 0, facts: factsOf(facts.Version, "6.4.2")},
	)
	c := buildChart(t, set, "kind=production&period=30", "versions", false)
	week := dayKey(mondayOf(daysAgo(0)))
	if p := point(t, c, "production", "", "6.5", week); p.Clusters != 2 || p.Share != round(2.0/3, 4) {
		t.Errorf("line 6.5: %+v, want 2 of 3 clusters", p)
	}
	if p := point(t, c, "production", "6.5", "6.5.0", week); p.Clusters != 2 {
		t.Errorf("6.5.0: %+v", p)
	}
	if p := point(t, c, "production", "6.5", "6.5.1", week); p.Clusters != 1 {
		t.Errorf("6.5.1: %+v", p)
	}
	if p := point(t, c, "production", "", "6.4", week); p.Clusters != 1 {
		t.Errorf("line 6.4: %+v", p)
	}
	if hasPoint(c, "production", "", "6.5.0") {
		t.Errorf("a version is given as a line")
	}
	v := newChartView(c, "")
	var legend []string
	for _, l := range v.Legend {
		legend = append(legend, l.Label)
	}
	if !slices.Equal(legend, []string{"6.5 (latest)", "6.4"}) {
		t.Errorf("legend %v: want the lines newest first, the latest marked", legend)
	}
}

// In public, a line's rare patch release cannot be worked out by
// subtracting the line's shown versions from the shown line, whatever the
// mix.
func TestAdoptionHidesWhatALineWouldTell(t *testing.T) {
	const k = 3
	for _, mix := range [][3]int{{6, 1, 5}, {3, 2, 4}, {10, 1, 1}, {4, 0, 2}, {2, 2, 9}} {
		var cs []fakeCluster
		add := func(n int, v string) {
			for i := 0; i < n; i++ {
				cs = append(cs, fakeCluster{id: fmt.Sprintf("%s-%d", v, i), kind: store.Production, from: 2, to: 0, facts: factsOf(facts.Version, v)})
			}
		}
		add(mix[0], "6.5.0")
		add(mix[1], "6.5.1")
		add(mix[2], "6.4.0")
		c := buildChart(t, runSet(cs...), "kind=production&period=30", "versions", true)
		shownIn := map[string]int64{}
		lines := map[string]Point{}
		for _, p := range c.Points {
			if p.Hidden == "" && p.Clusters > 0 && p.Clusters < k {
				t.Errorf("mix %v: %+v shown under %d clusters", mix, p, k)
			}
			if p.Group == "" {
				lines[p.Label] = p
			} else if p.Hidden == "" {
				shownIn[p.Group] += p.Clusters
			}
		}
		for l, p := range lines {
			if p.Hidden != "" {
				continue
			}
			if rest := p.Clusters - shownIn[l]; rest > 0 && rest < k {
				t.Errorf("mix %v: line %s shows %d clusters, its shown versions %d: the rest (%d) is told", mix, l, p.Clusters, shownIn[l], rest)
			}
		}
	}
}

func mondayOf(d time.Time) time.Time { return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7)) }

func TestReleaseLineAndColour(t *testing.T) {
	for v, want := range map[string]string{"6.5.0": "6.5", "6.5.1-rc1": "6.5", "10.12": "10.12", "6.x": "6.x", "<script>": "<script>"} {
		if got := releaseLine(v); got != want {
			t.Errorf("releaseLine(%q) = %q, want %q", v, got, want)
		}
	}
	for _, pair := range [][2]string{{"6.4", "6.5"}, {"6.5", "6.6"}, {"5.1", "6.0"}, {"3.7", "4.0"}} {
		if releaseColor(pair[0]) == releaseColor(pair[1]) {
			t.Errorf("lines %s and %s share a colour", pair[0], pair[1])
		}
	}
	if got := releaseColor("6.5"); got != palette[65%len(palette)] || releaseColor("junk") != otherColor {
		t.Errorf("6.5's colour %s is not the one its numbers pick", got)
	}
}
