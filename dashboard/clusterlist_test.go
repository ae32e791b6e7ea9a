package dashboard

import (
	"strings"
	"testing"

	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/mim-metrics/mim-metrics/store"
)

func TestChangeLog(t *testing.T) {
	day := func(n int, kv ...string) store.ClusterDay {
		return store.ClusterDay{Day: daysAgo(n), Property: "P", Facts: factsOf(kv...)}
	}
	hist := []store.ClusterDay{
		day(5, facts.Version, "6.4.0", facts.NodeNumber, "2", facts.Module, "mod_mam", facts.ModuleBackend, "mod_mam/rdbms"),
		day(4, facts.Version, "6.4.0", facts.NodeNumber, "2", facts.Module, "mod_mam", facts.ModuleBackend, "mod_mam/rdbms"),
		day(2, facts.Version, "6.5.0", facts.NodeNumber, "3", facts.Module, "mod_mam", facts.ModuleBackend, "mod_mam/cassandra",
			facts.Module, "mod_vcard", facts.ModuleBackend, "mod_vcard/ldap"),
		day(1, facts.Version, "6.5.0", facts.NodeNumber, "3", facts.Module, "mod_vcard", facts.ModuleBackend, "mod_vcard/ldap"),
	}
	var got []string
	for _, c := range changeLog(hist) {
		got = append(got, dayKey(c.Day)+" "+c.What+": "+c.Text)
	}
	want := []string{
		dayKey(daysAgo(1)) + " module removed: mod_mam",
		dayKey(daysAgo(2)) + " version: 6.4.0 → 6.5.0",
		dayKey(daysAgo(2)) + " nodes: 2 → 3",
		dayKey(daysAgo(2)) + " module enabled: mod_vcard",
		dayKey(daysAgo(2)) + " backend: mod_mam: rdbms → cassandra",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("change log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
