package dashboard

import (
	"testing"

	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

// drillFor is a drill-down page's input over set, as loadDrill reads it.
func drillFor(t *testing.T, set store.RunSet, q string, sub subject, hide bool, weekly ...string) *drillInput {
	t.Helper()
	in := newPageInput(mustFilter(t, q), testToday, set, nil, nil, 3)
	return newDrillInput(builder{in: in, hide: hide, k: 3}, set, sub, weekly...)
}

type moduleChecked struct {
	*drillInput
}

func (m moduleChecked) build(def ChartDef) Chart { return m.drillInput.build(def) }

func moduleFor(t *testing.T, set store.RunSet, q, module string, hide bool) moduleChecked {
	return moduleChecked{drillFor(t, set, q, moduleSubject(module), hide, facts.Module, facts.ModuleBackend)}
}

func vcard(version, backend string) []facts.Fact {
	return factsOf(facts.Version, version, facts.Module, "mod_vcard", facts.ModuleBackend, "mod_vcard/"+backend)
}

// A module's page: backends week by week as shares of its users, the
// versions that run it, the clusters that enabled and dropped it.
func TestModulePage(t *testing.T) {
	set := runSet(
		// a moved from LDAP to RDBMS (and from 6.4.0 to 6.5.0) 9 days ago.
		fakeCluster{id: "a", kind: store.Production, from: 20, to: 10, facts: vcard("6.4.0", "ldap")},
		fakeCluster{id: "a", kind: store.Production, from: 9, to: 0, facts: vcard("6.5.0", "rdbms")},
		fakeCluster{id: "b", kind: store.Production, from: 20, to: 0, facts: vcard("6.5.0", "mnesia")},
		// c enabled it, d dropped it.
		fakeCluster{id: "c", kind: store.Production, from: 20, to: 15, facts: factsOf(facts.Version, "6.5.0")},
		fakeCluster{id: "c", kind: store.Production, from: 14, to: 0, facts: vcard("6.5.0", "mnesia")},
		fakeCluster{id: "d", kind: store.Production, from: 20, to: 5, facts: vcard("6.5.0", "mnesia")},
		fakeCluster{id: "d", kind: store.Production, from: 4, to: 0, facts: factsOf(facts.Version, "6.5.0")},
	)
	m := moduleFor(t, set, "kind=production&period=30", "mod_vcard", false)
	weeks := m.build(moduleCharts[0])
	thisWeek := dayKey(mondayOf(daysAgo(0)))
	if p := point(t, weeks, "production", "mod_vcard", "rdbms", thisWeek); p.Clusters != 1 || p.Share != round(1.0/3, 4) {
		t.Errorf("rdbms this week: %+v, want 1 of the week's 3 users", p)
	}
	if p := point(t, weeks, "production", "mod_vcard", "ldap", thisWeek); p.Clusters != 0 {
		t.Errorf("ldap this week: %+v, want 0 (a moved to rdbms)", p)
	}
	old := dayKey(mondayOf(daysAgo(16)))
	if p := point(t, weeks, "production", "mod_vcard", "ldap", old); p.Clusters != 1 || p.Share != 0.25 {
		t.Errorf("ldap in the week of %s: %+v, want 1 of the week's 4 users", old, p)
	}
	versions := m.build(moduleCharts[2])
	if p := point(t, versions, "production", "", "6.4.0", ""); p.Clusters != 1 || p.Share != 0.25 {
		t.Errorf("6.4.0: %+v, want 1 of 4 users", p)
	}
	if p := point(t, versions, "production", "", "6.5.0", ""); p.Clusters != 4 {
		t.Errorf("6.5.0: %+v, want 4", p)
	}
	changes := m.build(moduleCharts[3])
	if p := point(t, changes, "production", "", enabledLabel, ""); p.Clusters != 1 {
		t.Errorf("enabled: %+v, want c", p)
	}
	if p := point(t, changes, "production", "", droppedLabel, ""); p.Clusters != 1 {
		t.Errorf("dropped: %+v, want d", p)
	}
	// In public (K = 3) the single clusters are not shown, and a custom
	// module of one cluster has no page.
	pub := moduleFor(t, set, "kind=production&period=30", "mod_vcard", true)
	for _, def := range moduleCharts {
		for _, p := range pub.build(def).Points {
			if p.Hidden == "" && p.Clusters > 0 && p.Clusters < 3 {
				t.Errorf("public %s: %+v under 3 clusters", def.ID, p)
			}
		}
	}
	custom := runSet(fakeCluster{id: "x", kind: store.Production, from: 3, to: 0, facts: factsOf(facts.Module, "mod_secret_sentinel")})
	if moduleFor(t, custom, "", "mod_secret_sentinel", true).hasPage() {
		t.Errorf("the public view names a custom module of one cluster")
	}
	if !moduleFor(t, custom, "", "mod_secret_sentinel", false).hasPage() {
		t.Errorf("the admin view has no page for the custom module")
	}
}
