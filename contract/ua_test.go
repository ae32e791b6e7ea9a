package contract

import (
	"reflect"
	"testing"
)

func TestUAHitMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		event Event
		want  []UAHit
	}{
		{Event{Name: HostCount, Params: map[string]any{"value": int64(3)}}, []UAHit{{"hosts", "count", "3"}}},
		{Event{Name: DomainCount, Params: map[string]any{"value": int64(7)}}, []UAHit{{"domains", "count", "7"}}},
		{Event{Name: CustomModuleCount, Params: map[string]any{"value": int64(2)}}, []UAHit{{"custom_modules", "count", "2"}}},
		{Event{Name: ModuleWithOpt, Params: map[string]any{"module": "mod_adhoc"}}, []UAHit{{"mod_adhoc", "none", "none"}}},
		{Event{Name: ModuleWithOpt, Params: map[string]any{"module": "mod_muc", "online_backend": "cets", "backend": "rdbms"}},
			[]UAHit{{"mod_muc", "backend", "rdbms"}, {"mod_muc", "online_backend", "cets"}}},
		{Event{Name: Cluster, Params: map[string]any{"uptime": "0000-00:05:00", "version": "5.1.0", "component": int64(0), "node_number": int64(1), "config_type": "toml"}},
			[]UAHit{{"cluster", "uptime", "0000-00:05:00"}, {"cluster", "number_of_nodes", "1"}, {"cluster", "mim_version", "5.1.0"}, {"cluster", "number_of_components", "0"}, {"cluster", "config_type", "toml"}}},
		{Event{Name: HTTPAPI, Params: map[string]any{"mod_bosh": "enabled", "mongoose_client_api": "enabled"}},
			[]UAHit{{"http_api", "mod_bosh", "enabled"}, {"http_api", "mongoose_client_api", "enabled"}}},
		{Event{Name: HTTPAPI, Params: map[string]any{}}, nil},
		{Event{Name: TransportMechanism, Params: map[string]any{"tcp": "enabled"}}, []UAHit{{"transport_mechanism", "tcp", "enabled"}}},
		{Event{Name: TLSOption, Params: map[string]any{"mode": "starttls", "module": "fast_tls"}}, []UAHit{{"tls_option", "starttls", "fast_tls"}}},
		{Event{Name: OutgoingPool, Params: map[string]any{"value": "rdbms"}}, []UAHit{{"outgoing_pools", "type", "rdbms"}}},
		{Event{Name: XMPPStanzaCount, Params: map[string]any{"stanza_type": "xmppMessageSent", "total": int64(12), "increment": int64(3)}},
			[]UAHit{{"xmppMessageSent", "12", "3"}}},
		{Event{Name: "something_new", Params: map[string]any{"b": "x", "a": int64(1)}}, []UAHit{{"something_new", "a", "1"}, {"something_new", "b", "x"}}},
	}
	for _, tc := range tests {
		if got := UAHits(tc.event); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("UAHits(%s %v) = %v, want %v", tc.event.Name, tc.event.Params, got, tc.want)
		}
	}
}
