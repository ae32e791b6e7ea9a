package contract

import (
	"reflect"
	"strings"
	"testing"
)

func TestSummarize(t *testing.T) {
	withDeclared(t, `
-metric(#{event => max_queue, doc => "a test's count", params => [value], numbers => [{value, 0, 1000}],
          fields => [{max_queue, [quick]}], events => count, dimension => max_queue}).
-metric(#{event => storage_kind, doc => "a test's names", params => [value], atoms => [value],
          fields => [{storage_kind, [quick]}], events => each_value, dimension => storage}).
`)
	n := func(v int64) *int64 { return &v }
	got := Summarize([]Event{
		{Name: Cluster, Params: map[string]any{"version": "6.5.0", "node_number": int64(3), "uptime": "0001-02:03:04"}},
		{Name: Cluster, Params: map[string]any{"version": "6.6.0", "config_type": "toml", "component": 2}},
		{Name: ModuleWithOpt, Params: map[string]any{"module": "mod_vcard", "backend": "rdbms"}},
		{Name: ModuleWithOpt, Params: map[string]any{"module": "mod_ping"}},
		{Name: ModuleWithOpt, Params: map[string]any{"module": "mod_vcard", "backend": "rdbms"}},
		{Name: ModuleWithOpt, Params: map[string]any{"module": "mod_mam", "backend": "Not A Name"}},
		{Name: TLSOption, Params: map[string]any{"mode": "tls"}},
		{Name: XMPPStanzaCount, Params: map[string]any{"stanza_type": "xmppIqSent", "total": int64(9), "increment": int64(-2)}},
		{Name: HostCount, Params: map[string]any{"value": float64(3)}},
		{Name: HostCount, Params: map[string]any{"value": 1.5}},
		{Name: HTTPAPI, Params: map[string]any{"mod_bosh": "enabled", "mongoose_api": "enabled"}},
		{Name: OutgoingPool, Params: map[string]any{"value": "rdbms"}},
		{Name: OutgoingPool, Params: map[string]any{"value": "http"}},
		{Name: OutgoingPool, Params: map[string]any{"value": "rdbms"}},
		{Name: "max_queue", Params: map[string]any{"value": int64(700)}},
		{Name: "max_queue", Params: map[string]any{"value": int64(7000)}},
		{Name: "storage_kind", Params: map[string]any{"value": "s3"}},
		{Name: "no_such_event", Params: map[string]any{"value": "x"}},
	})
	want := Summary{
		Clusters: []ClusterEvent{{Version: "6.5.0", NodeNumber: n(3)}, {Version: "6.6.0", ConfigType: "toml", Components: n(2)}},
		Modules:  []Module{{Module: "mod_ping"}, {Module: "mod_vcard", Backend: "rdbms"}},
		TLS:      []TLS{{Mode: "tls", Module: "none"}},
		Stanzas:  []Stanzas{{Type: "xmppIqSent", Total: 9, Increment: -2}},
		Counts:   map[string]int64{"hosts": 3, "max_queue": 700},
		Names:    map[string][]string{"http_api": {"mod_bosh", "mongoose_api"}, "pool": {"http", "rdbms"}, "storage": {"s3"}},
	}
	var reasons []string
	for _, r := range got.Rejected {
		reasons = append(reasons, r.Field+": "+r.Reason)
	}
	got.Rejected = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Summarize:\n got %+v\nwant %+v", got, want)
	}
	// What Check refuses is left out, with its reason: a backend that is
	// no name, a count that is no integer, one outside its declared range,
	// an event the catalog does not have.
	wantReasons := []string{"params.backend: " + ReasonImplausible, "params.value: " + ReasonWrongType,
		"params.value: " + ReasonImplausible, "name: " + ReasonUnknownEvent}
	if !reflect.DeepEqual(reasons, wantReasons) {
		t.Errorf("rejected: %v, want %v", reasons, wantReasons)
	}
}

func TestDimensionDeclarations(t *testing.T) {
	for _, tc := range []struct{ attr, err string }{
		{`-metric(#{event => e, doc => "d", params => [a, b], fields => [f], events => count, dimension => d}).`,
			"only an event of flags or of one param, value, states a dimension by itself"},
		{`-metric(#{event => e, doc => "d", params => [value], fields => [f], events => count, dimension => "d"}).`,
			"dimension: want the dimension's name (an atom)"},
	} {
		terms, err := attributes(tc.attr, "metric")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := declaration(terms[0].term, nil); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: error %v, want one saying %q", tc.attr, err, tc.err)
		}
	}
	dims := map[string]string{}
	for _, s := range Catalog() {
		if s.Dimension != "" {
			dims[s.Name] = s.Dimension
		}
	}
	want := map[string]string{HostCount: "hosts", DomainCount: "domains", CustomModuleCount: "custom_modules",
		HTTPAPI: "http_api", TransportMechanism: "transport", OutgoingPool: "pool"}
	for event, dim := range want {
		if dims[event] != dim {
			t.Errorf("the catalog's event %s states the dimension %q, want %q", event, dims[event], dim)
		}
	}
}
