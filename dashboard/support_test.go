package dashboard

import (
	"strings"
	"testing"

	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

func supportChart(t *testing.T, set store.RunSet, q string, hide bool) Chart {
	t.Helper()
	def := builtin(t, "support")
	in := newPageInput(mustFilter(t, q), testToday, set, nil, []ChartDef{def}, 3)
	return builder{in: in, hide: hide, k: 3}.build(def)
}

// The supported lines are the newest two that at least K clusters ran;
// each week's clusters on them and on older lines are distinct clusters.
func TestSupportedAndOlderLines(t *testing.T) {
	var cs []fakeCluster
	add := func(id, version string, from, to int) {
		cs = append(cs, fakeCluster{id: id, kind: store.Production, from: from, to: to, facts: factsOf(facts.Version, version)})
	}
	// 6.6: two clusters only (fewer than K = 3): not a supported line.
	add("n1", "6.6.0", 3, 0)
	add("n2", "6.6.0", 3, 0)
	// 6.5: three clusters, one on 6.5.0 and 6.5.1 in the same week (one
	// cluster of the line); 6.4: three; 6.2: four, one of which upgraded
	// to 6.4.1 three days ago.
	add("a", "6.5.0", 20, 5)
	add("a", "6.5.1", 4, 0)
	add("b", "6.5.1", 20, 0)
	add("c", "6.5.0", 20, 0)
	add("d", "6.4.0", 20, 0)
	add("e", "6.4.0", 20, 0)
	add("f", "6.2.1", 20, 4)
	add("f", "6.4.1", 3, 0)
	for _, id := range []string{"g", "h", "i"} {
		add(id, "6.2.1", 20, 0)
	}
	add("x", "<script>", 20, 0)
	c := supportChart(t, runSet(cs...), "kind=production&period=30", false)
	if !strings.HasSuffix(c.Unit, ": 6.5 and 6.4") {
		t.Errorf("unit %q: want the supported lines 6.5 and 6.4 named", c.Unit)
	}
	// This week: a, b, c, d, e, f on a supported line (6 of the 12 active);
	// n1, n2 (6.6 is not supported), f (6.2.1 earlier this week), g, h, i
	// and x on an older one or another form: 7.
	week := dayKey(mondayOf(daysAgo(0)))
	if p := point(t, c, "production", "", supportedLabel, week); p.Clusters != 6 || p.Share != 0.5 {
		t.Errorf("supported this week: %+v, want 6 of 12", p)
	}
	if p := point(t, c, "production", "", olderLabel, week); p.Clusters != 7 || p.Share != round(7.0/12, 4) {
		t.Errorf("older this week: %+v, want 7 of 12", p)
	}
	// In public no number under K is shown.
	for _, p := range supportChart(t, runSet(cs...), "kind=production&period=30", true).Points {
		if p.Hidden == "" && p.Clusters > 0 && p.Clusters < 3 {
			t.Errorf("public %+v under 3 clusters", p)
		}
	}
}
