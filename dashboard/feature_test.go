package dashboard

import (
	"testing"

	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

func featureFor(t *testing.T, set store.RunSet, q, name, value string, hide bool) *drillInput {
	f, _ := featureByName(name)
	sub := featureSubject(f, value)
	return drillFor(t, set, q, sub, hide, sub.Dimension)
}

func bosh(version string) []facts.Fact {
	return factsOf(facts.Version, version, facts.Transport, "tcp", facts.Transport, "mod_bosh")
}

// A feature's page: its clusters week by week as shares of the week's
// active clusters, the versions that run it, the clusters that enabled
// and dropped it; the truth is counted by hand from the runs below.
func TestFeaturePage(t *testing.T) {
	set := runSet(
		// a upgraded from 6.4.0 to 6.5.0 9 days ago, BOSH all along.
		fakeCluster{id: "a", kind: store.Production, from: 20, to: 10, facts: bosh("6.4.0")},
		fakeCluster{id: "a", kind: store.Production, from: 9, to: 0, facts: bosh("6.5.0")},
		// b never runs it; c enabled it 14 days ago, d dropped it 4 days ago.
		fakeCluster{id: "b", kind: store.Production, from: 20, to: 0, facts: factsOf(facts.Version, "6.5.0", facts.Transport, "tcp")},
		fakeCluster{id: "c", kind: store.Production, from: 20, to: 15, facts: factsOf(facts.Version, "6.5.0", facts.Transport, "tcp")},
		fakeCluster{id: "c", kind: store.Production, from: 14, to: 0, facts: bosh("6.5.0")},
		fakeCluster{id: "d", kind: store.Production, from: 20, to: 5, facts: bosh("6.5.0")},
		fakeCluster{id: "d", kind: store.Production, from: 4, to: 0, facts: factsOf(facts.Version, "6.5.0", facts.Transport, "tcp")},
		fakeCluster{id: "e", kind: store.CI, from: 3, to: 0, facts: bosh("6.6.0")},
	)
	m := featureFor(t, set, "period=30", "transport", "mod_bosh", false)
	build := func(id string) Chart {
		def, _ := chartOf(m.subject, id)
		return m.build(def)
	}
	weeks := build("feature-weeks")
	// This week: a, c run it, b and d do not: 2 of 4. In the first week
	// (days 25 to 19, testToday being a Friday): a and d of a, b, c, d.
	if p := point(t, weeks, "production", "", "mod_bosh", dayKey(mondayOf(daysAgo(0)))); p.Clusters != 2 || p.Share != 0.5 {
		t.Errorf("this week: %+v, want 2 of the week's 4 clusters", p)
	}
	if p := point(t, weeks, "production", "", "mod_bosh", dayKey(mondayOf(daysAgo(20)))); p.Clusters != 2 || p.Share != 0.5 {
		t.Errorf("the first week: %+v, want a and d of 4", p)
	}
	if p := point(t, weeks, "ci", "", "mod_bosh", dayKey(mondayOf(daysAgo(0)))); p.Clusters != 1 || p.Share != 1 {
		t.Errorf("CI this week: %+v, want e, its only cluster", p)
	}
	versions := build("feature-versions")
	if p := point(t, versions, "production", "", "6.4.0", ""); p.Clusters != 1 || p.Share != round(1.0/3, 4) {
		t.Errorf("6.4.0: %+v, want a of the 3 clusters that ran it", p)
	}
	if p := point(t, versions, "production", "", "6.5.0", ""); p.Clusters != 3 {
		t.Errorf("6.5.0: %+v, want a, c, d", p)
	}
	changes := build("feature-changes")
	if p := point(t, changes, "production", "", enabledLabel, ""); p.Clusters != 1 {
		t.Errorf("enabled: %+v, want c", p)
	}
	if p := point(t, changes, "production", "", droppedLabel, ""); p.Clusters != 1 {
		t.Errorf("dropped: %+v, want d", p)
	}
	// In public (K = 3) no number under 3 clusters is shown, and a custom
	// value of one cluster has no page; a known value has one.
	pub := featureFor(t, set, "period=30", "transport", "mod_bosh", true)
	for _, def := range pub.Charts {
		for _, p := range pub.build(def).Points {
			if p.Hidden == "" && p.Clusters > 0 && p.Clusters < 3 {
				t.Errorf("public %s: %+v under 3 clusters", def.ID, p)
			}
		}
	}
	custom := runSet(fakeCluster{id: "x", kind: store.Production, from: 3, to: 0, facts: factsOf(facts.HTTPAPI, "secret_api_sentinel")})
	if featureFor(t, custom, "", "http-api", "secret_api_sentinel", true).hasPage() {
		t.Errorf("the public view names a custom HTTP API of one cluster")
	}
	if !featureFor(t, custom, "", "http-api", "secret_api_sentinel", false).hasPage() {
		t.Errorf("the admin view has no page for the custom HTTP API")
	}
	if !featureFor(t, custom, "", "transport", "mod_websockets", true).hasPage() {
		t.Errorf("a known transport nobody reported has no public page")
	}
}
