package inventory

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/metrics"
)

// report is a 6.4.0 node's report; change edits its events.
func report(node string, change func(*metrics.NodeReport)) metrics.NodeReport {
	r := metrics.NodeReport{Node: node, Server: metrics.MongooseIM, Version: "6.4.0", OTP: "25", Events: []contract.Event{
		{Name: contract.HostCount, Params: map[string]any{"value": int64(2)}},
		{Name: contract.ModuleWithOpt, Params: map[string]any{"module": "mod_muc", "backend": "mnesia", "online_backend": "cets"}},
		{Name: contract.ModuleWithOpt, Params: map[string]any{"module": "mod_ping"}},
		{Name: contract.ModuleWithOpt, Params: map[string]any{"module": "mod_vcard", "backend": "mnesia"}},
		{Name: contract.ModuleWithOpt, Params: map[string]any{"module": "mod_vcard", "backend": "ldap"}},
		{Name: contract.Cluster, Params: map[string]any{"uptime": "0000-00:00:05", "version": "6.4.0", "component": int64(0), "node_number": int64(3), "config_type": "toml"}},
		{Name: contract.HTTPAPI, Params: map[string]any{"mongoose_admin_api": "enabled", "mongoose_client_api": "enabled"}},
		{Name: contract.TransportMechanism, Params: map[string]any{"tcp": "enabled", "mod_bosh": "enabled"}},
		{Name: contract.XMPPStanzaCount, Params: map[string]any{"stanza_type": "xmppMessageSent", "total": int64(7), "increment": int64(7)}},
	}}
	if change != nil {
		change(&r)
	}
	return r
}

// replace swaps the first event named name for e (or drops it when e has
// no name).
func replace(r *metrics.NodeReport, name string, match func(contract.Event) bool, e contract.Event) {
	for i, old := range r.Events {
		if old.Name == name && (match == nil || match(old)) {
			if e.Name == "" {
				r.Events = append(r.Events[:i:i], r.Events[i+1:]...)
			} else {
				r.Events[i] = e
			}
			return
		}
	}
	panic("no event " + name)
}

func module(m string) func(contract.Event) bool {
	return func(e contract.Event) bool { return e.Params["module"] == m }
}

func TestNoDrift(t *testing.T) {
	// What legitimately differs: uptime, stanza counts, components, the
	// cluster size a node sees, host counts; and a node that failed.
	other := report("b@h", func(r *metrics.NodeReport) {
		replace(r, "cluster", nil, contract.Event{Name: contract.Cluster, Params: map[string]any{"uptime": "0001-02:03:04", "version": "6.4.0", "component": int64(2), "node_number": int64(2), "config_type": "toml"}})
		replace(r, "xmpp_stanza_count", nil, contract.Event{Name: contract.XMPPStanzaCount, Params: map[string]any{"stanza_type": "xmppMessageSent", "total": int64(9000), "increment": int64(1)}})
		replace(r, "host_count", nil, contract.Event{Name: contract.HostCount, Params: map[string]any{"value": int64(3)}})
	})
	failed := metrics.NodeReport{Node: "z@h", Err: errors.New("unreachable")}
	if d := Drift([]metrics.NodeReport{report("a@h", nil), other, report("c@h", nil), failed}); d != nil {
		t.Errorf("drift where none is: %v", d)
	}
	if d := Drift([]metrics.NodeReport{report("a@h", nil)}); d != nil {
		t.Errorf("drift of one node: %v", d)
	}
}

func TestDrift(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*metrics.NodeReport)
		want   string
	}{
		{"version", func(r *metrics.NodeReport) { r.Version = "6.4.1" },
			"version: mongooseim 6.4.0 on a@h, b@h; mongooseim 6.4.1 on c@h"},
		{"module missing", func(r *metrics.NodeReport) { replace(r, "module_with_opt", module("mod_ping"), contract.Event{}) },
			"module mod_ping: enabled on a@h, b@h; not enabled on c@h"},
		{"backend", func(r *metrics.NodeReport) {
			replace(r, "module_with_opt", module("mod_vcard"), contract.Event{Name: contract.ModuleWithOpt, Params: map[string]any{"module": "mod_vcard", "backend": "rdbms"}})
		}, "module_backend mod_vcard: ldap, mnesia on a@h, b@h; ldap, rdbms on c@h"},
		{"online backend", func(r *metrics.NodeReport) {
			replace(r, "module_with_opt", module("mod_muc"), contract.Event{Name: contract.ModuleWithOpt, Params: map[string]any{"module": "mod_muc", "backend": "mnesia", "online_backend": "mnesia"}})
		}, "module_backend mod_muc: mnesia (online cets) on a@h, b@h; mnesia (online mnesia) on c@h"},
		{"transport", func(r *metrics.NodeReport) {
			replace(r, "transport_mechanism", nil, contract.Event{Name: contract.TransportMechanism, Params: map[string]any{"tcp": "enabled"}})
		}, "transport mod_bosh: enabled on a@h, b@h; not enabled on c@h"},
		{"http api", func(r *metrics.NodeReport) {
			replace(r, "http_api", nil, contract.Event{Name: contract.HTTPAPI, Params: map[string]any{"mongoose_admin_api": "enabled", "mongoose_client_api": "enabled", "mongoose_graphql_handler": "enabled"}})
		}, "http_api mongoose_graphql_handler: not enabled on a@h, b@h; enabled on c@h"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Drift([]metrics.NodeReport{report("a@h", nil), report("c@h", tc.change), report("b@h", nil)})
			if len(d) != 1 || d[0].String() != tc.want {
				t.Errorf("drift %v\nwant [%s]", d, tc.want)
			}
		})
	}
}

func TestDriftOrderAndGroups(t *testing.T) {
	d := Drift([]metrics.NodeReport{
		report("a@h", nil),
		report("b@h", func(r *metrics.NodeReport) {
			r.Version = "6.3.0"
			replace(r, "module_with_opt", module("mod_ping"), contract.Event{})
		}),
	})
	var kinds []Kind
	for _, x := range d {
		kinds = append(kinds, x.Kind)
	}
	if !reflect.DeepEqual(kinds, []Kind{DriftVersion, DriftModule}) {
		t.Fatalf("kinds %v, want version then module: %v", kinds, d)
	}
	// Two groups of one: by value.
	if got := d[0].String(); !strings.HasPrefix(got, "version: mongooseim 6.3.0 on b@h; mongooseim 6.4.0 on a@h") {
		t.Errorf("%s", got)
	}
}
