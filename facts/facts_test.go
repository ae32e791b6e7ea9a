package facts_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/facts"
)

// golden reads a fixture's expected events, numbers as int64 as the
// receiver's validation hands them over.
func golden(t *testing.T, fixture string) []contract.Event {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "test", "fixtures", fixture, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw []struct {
		Name   string                     `json:"name"`
		Params map[string]json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatalf("%s: %v", fixture, err)
	}
	events := make([]contract.Event, len(raw))
	for i, r := range raw {
		params := map[string]any{}
		for k, v := range r.Params {
			var n int64
			var s string
			if json.Unmarshal(v, &n) == nil {
				params[k] = n
			} else if err := json.Unmarshal(v, &s); err == nil {
				if s == "<uptime>" { // the goldens' placeholder for the clock's
					s = "0000-01:02:03"
				}
				params[k] = s
			} else {
				t.Fatalf("%s: param %s: %s", fixture, k, v)
			}
		}
		events[i] = contract.Event{Name: r.Name, Params: params}
	}
	return events
}

func f(dimension, value string) facts.Fact { return facts.Fact{Dimension: dimension, Value: value} }

func TestFromEventsGoldens(t *testing.T) {
	tests := []struct {
		fixture string
		country string
		want    []facts.Fact
	}{
		{"mim-6.6.0", "PL", []facts.Fact{
			f("components", "0"),
			f("config_type", "toml"),
			f("country", "PL"),
			f("custom_modules", "yes"),
			f("domains", "2-10"),
			f("hosts", "2-10"),
			f("http_api", "mongoose_bosh_handler"),
			f("http_api", "mongoose_graphql_handler"),
			f("http_api", "mongoose_websocket_handler"),
			f("module", "mod_adhoc"),
			f("module", "mod_disco"),
			f("module", "mod_event_pusher"),
			f("module", "mod_event_pusher_push"),
			f("module", "mod_muc"),
			f("module", "mod_muc_light"),
			f("module", "mod_push_service_mongoosepush"),
			f("module", "mod_vcard"),
			f("module_backend", "mod_adhoc/none"),
			f("module_backend", "mod_disco/none"),
			f("module_backend", "mod_event_pusher/sns"),
			f("module_backend", "mod_event_pusher_push/mnesia"),
			f("module_backend", "mod_muc/mnesia"),
			f("module_backend", "mod_muc/none"),
			f("module_backend", "mod_muc/online:cets"),
			f("module_backend", "mod_muc/online:mnesia"),
			f("module_backend", "mod_muc_light/none"),
			f("module_backend", "mod_muc_light/rdbms"),
			f("module_backend", "mod_push_service_mongoosepush/none"),
			f("module_backend", "mod_vcard/ldap"),
			f("module_backend", "mod_vcard/mnesia"),
			f("module_backend", "mod_vcard/rdbms"),
			f("node_number", "1"),
			f("pool", "http"),
			f("pool", "rdbms"),
			{"stanza", "xmppIqReceived", 39},
			{"stanza", "xmppIqSent", 41},
			{"stanza", "xmppMessageReceived", 23},
			{"stanza", "xmppMessageSent", 17},
			{"stanza", "xmppPresenceReceived", 11},
			{"stanza", "xmppPresenceSent", 8},
			f("transport", "mongoose_bosh_handler"),
			f("transport", "mongoose_websocket_handler"),
			f("transport", "tcp"),
			f("version", "6.6.0"),
		}},
		{"mim-3.6.0", "", []facts.Fact{
			f("components", "0"),
			f("custom_modules", "yes"),
			f("hosts", "2-10"),
			f("http_api", "lasse_handler"),
			f("http_api", "mod_bosh"),
			f("http_api", "mod_websockets"),
			f("http_api", "mongoose_api"),
			f("http_api", "mongoose_api_admin"),
			f("http_api", "mongoose_client_api_contacts"),
			f("http_api", "mongoose_client_api_messages"),
			f("http_api", "mongoose_client_api_rooms"),
			f("http_api", "mongoose_client_api_rooms_config"),
			f("http_api", "mongoose_client_api_rooms_messages"),
			f("http_api", "mongoose_client_api_rooms_users"),
			f("module", "mod_adhoc"),
			f("module", "mod_bosh"),
			f("module", "mod_disco"),
			f("module", "mod_event_pusher"),
			f("module", "mod_event_pusher_push"),
			f("module", "mod_muc"),
			f("module", "mod_muc_light"),
			f("module", "mod_ping"),
			f("module", "mod_push_service_mongoosepush"),
			f("module", "mod_vcard"),
			f("module_backend", "mod_adhoc/none"),
			f("module_backend", "mod_bosh/mnesia"),
			f("module_backend", "mod_disco/none"),
			f("module_backend", "mod_event_pusher/push_mnesia"),
			f("module_backend", "mod_event_pusher_push/none"),
			f("module_backend", "mod_muc/mnesia"),
			f("module_backend", "mod_muc_light/mnesia"),
			f("module_backend", "mod_muc_light/rdbms"),
			f("module_backend", "mod_ping/none"),
			f("module_backend", "mod_push_service_mongoosepush/none"),
			f("module_backend", "mod_vcard/ldap"),
			f("module_backend", "mod_vcard/mnesia"),
			f("node_number", "1"),
			f("tls", "starttls/fast_tls"),
			f("transport", "mod_bosh"),
			f("transport", "mod_websockets"),
			f("transport", "tcp"),
			f("version", "3.6.0"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			// The dimensions the want lists: a metric added later (its
			// golden event) states a dimension of its own.
			listed := map[string]bool{}
			for _, w := range tt.want {
				listed[w.Dimension] = true
			}
			var got []facts.Fact
			for _, fact := range facts.FromEvents(golden(t, tt.fixture), tt.country) {
				if listed[fact.Dimension] {
					got = append(got, fact)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FromEvents:\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

// Every golden gives facts whose dimensions have a spec, a version
// and no duplicate.
func TestFromEventsAllGoldens(t *testing.T) {
	known := map[string]bool{facts.Stanza: true} // stanza facts are amounts, without a spec
	for _, spec := range facts.Specs {
		known[spec.Name] = true
	}
	dirs, err := filepath.Glob(filepath.Join("..", "test", "fixtures", "mim-*"))
	if err != nil || len(dirs) < 10 {
		t.Fatalf("fixtures: %v %v", dirs, err)
	}
	for _, dir := range dirs {
		fixture := filepath.Base(dir)
		got := facts.FromEvents(golden(t, fixture), "")
		seen := map[facts.Fact]bool{}
		versions := 0
		for _, fact := range got {
			if !known[fact.Dimension] {
				t.Errorf("%s: unknown dimension %q", fixture, fact.Dimension)
			}
			if fact.Dimension == facts.Version {
				versions++
			}
			k := facts.Fact{Dimension: fact.Dimension, Value: fact.Value}
			if seen[k] {
				t.Errorf("%s: %v twice", fixture, k)
			}
			seen[k] = true
		}
		if versions != 1 {
			t.Errorf("%s: %d version facts, want 1", fixture, versions)
		}
	}
}

func TestFromEventsCases(t *testing.T) {
	stanza := func(typ string, inc any) contract.Event {
		return contract.Event{Name: contract.XMPPStanzaCount, Params: map[string]any{"stanza_type": typ, "total": int64(1), "increment": inc}}
	}
	tests := []struct {
		name   string
		events []contract.Event
		want   []facts.Fact
	}{
		{"stanza increments summed per type, negative counts 0",
			[]contract.Event{stanza("xmppMessageSent", int64(5)), stanza("xmppMessageSent", int64(7)),
				stanza("xmppIqSent", int64(-3)), stanza("xmppIqSent", int64(2))},
			[]facts.Fact{{"stanza", "xmppIqSent", 2}, {"stanza", "xmppMessageSent", 12}}},
		{"unknown events and params of the wrong type ignored",
			[]contract.Event{{Name: "no_such_event", Params: map[string]any{"value": "x"}},
				{Name: contract.HostCount, Params: map[string]any{"value": "three"}},
				{Name: contract.Cluster, Params: map[string]any{"version": int64(6), "node_number": "2"}},
				{Name: contract.ModuleWithOpt, Params: map[string]any{"backend": "rdbms"}}},
			nil},
		{"JSON numbers",
			[]contract.Event{{Name: contract.HostCount, Params: map[string]any{"value": float64(250)}},
				{Name: contract.DomainCount, Params: map[string]any{"value": json.Number("0")}},
				{Name: contract.CustomModuleCount, Params: map[string]any{"value": int64(0)}}},
			[]facts.Fact{f("custom_modules", "no"), f("domains", "0"), f("hosts", "101-1000")}},
		{"mid-upgrade cluster events from two nodes",
			[]contract.Event{{Name: contract.Cluster, Params: map[string]any{"version": "6.5.0", "node_number": int64(3), "component": int64(2)}},
				{Name: contract.Cluster, Params: map[string]any{"version": "6.6.0", "node_number": int64(3), "component": int64(2)}}},
			[]facts.Fact{f("components", "2-5"), f("node_number", "3"), f("version", "6.5.0"), f("version", "6.6.0")}},
		{"tls without module",
			[]contract.Event{{Name: contract.TLSOption, Params: map[string]any{"mode": "tls"}}},
			[]facts.Fact{f("tls", "tls/none")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := facts.FromEvents(tt.events, "")
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBuckets(t *testing.T) {
	tests := []struct {
		fn   func(int64) string
		name string
		in   []int64
		want []string
	}{
		{facts.NodeNumberBucket, "node_number", []int64{-1, 0, 1, 2, 10, 11, 20, 21, 500},
			[]string{"0", "0", "1", "2", "10", "11-20", "11-20", "21+", "21+"}},
		{facts.ComponentsBucket, "components", []int64{-1, 0, 1, 2, 5, 6, 100},
			[]string{"0", "0", "1", "2-5", "2-5", "6+", "6+"}},
		{facts.CountBucket, "hosts", []int64{0, 1, 2, 10, 11, 100, 101, 1000, 1001, 1 << 40},
			[]string{"0", "1", "2-10", "2-10", "11-100", "11-100", "101-1000", "101-1000", "1001+", "1001+"}},
		{facts.StanzaVolumeBucket, "stanza_volume", []int64{-5, 0, 1, 100, 101, 10_000, 10_001, 1_000_000, 1_000_001},
			[]string{"0", "0", "1-100", "1-100", "101-10k", "101-10k", "10k-1M", "10k-1M", "1M+"}},
	}
	for _, tt := range tests {
		for i, n := range tt.in {
			if got := tt.fn(n); got != tt.want[i] {
				t.Errorf("%s bucket of %d = %q, want %q", tt.name, n, got, tt.want[i])
			}
		}
	}
}
