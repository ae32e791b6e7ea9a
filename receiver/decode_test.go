package receiver

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/reporting"
)

// goldenReports reads every generation's expected.json, with a real uptime
// in place of the placeholder, as the events a node reports.
func goldenReports(t testing.TB) map[string][]contract.Event {
	t.Helper()
	files, err := filepath.Glob("../test/fixtures/*/expected.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden reports: %v", err)
	}
	out := map[string][]contract.Event{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		raw = []byte(strings.ReplaceAll(string(raw), `"<uptime>"`, `"0012-03:04:05"`))
		out[filepath.Base(filepath.Dir(f))] = mustEvents(t, raw)
	}
	return out
}

// mustEvents decodes events with the catalog's types (numbers int64).
func mustEvents(t testing.TB, raw []byte) []contract.Event {
	t.Helper()
	var evs []struct {
		Name   string                     `json:"name"`
		Params map[string]json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(raw, &evs); err != nil {
		t.Fatal(err)
	}
	out := make([]contract.Event, len(evs))
	for i, e := range evs {
		p := map[string]any{}
		for k, v := range e.Params {
			var n int64
			var s string
			if json.Unmarshal(v, &n) == nil {
				p[k] = n
			} else if json.Unmarshal(v, &s) == nil {
				p[k] = s
			} else {
				t.Fatalf("param %s: %s", k, v)
			}
		}
		out[i] = contract.Event{Name: e.Name, Params: p}
	}
	return out
}

func node(events []contract.Event) []metrics.NodeReport {
	return []metrics.NodeReport{{Node: "mim@sentinel-host-7f3a", Server: metrics.MongooseIM, Events: events}}
}

// testCycle is the report cycle's time in the tests' sidecar requests.
var testCycle = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// sidecarRequests builds the sidecar's requests for reports to a receiver
// (GA4 "G-…:secret", with timestamp_micros) or to a UA property.
func sidecarRequests(t testing.TB, id, clientID string, reports []metrics.NodeReport) []reporting.Request {
	t.Helper()
	dest, err := reporting.ParseTrackingID(id)
	if err != nil {
		t.Fatal(err)
	}
	if dest.Protocol == reporting.GA4 {
		dest.Receiver = "http://127.0.0.1:1"
	}
	reqs, dropped, err := reporting.BuildRequests(dest, "http://127.0.0.1:1", clientID, testCycle, reports)
	if err != nil || len(dropped) > 0 {
		t.Fatalf("BuildRequests: %v %v", err, dropped)
	}
	return reqs
}

// TestGA4RoundTrip: every golden report, as the sidecar sends it, decodes
// to exactly the events it holds, none dropped.
func TestGA4RoundTrip(t *testing.T) {
	t.Parallel()
	for era, events := range goldenReports(t) {
		reqs := sidecarRequests(t, "G-TEST1234:secret-abc", "cluster-1", node(events))
		var got []contract.Event
		for i, r := range reqs {
			d, rerr := decodeGA4(r.Body)
			if rerr != nil {
				t.Fatalf("%s: %v in %s", era, rerr, r.Body)
			}
			for _, dr := range d.Dropped {
				t.Errorf("%s: dropped event %d: %v", era, dr.Index, dr.Err)
			}
			if d.ClientID != "cluster-1" || d.TimestampMicros != testCycle.UnixMicro() || d.Position != int64(i) {
				t.Errorf("%s: client id %q, timestamp %d, position %d", era, d.ClientID, d.TimestampMicros, d.Position)
			}
			got = append(got, d.Events...)
		}
		if !reflect.DeepEqual(got, events) {
			t.Errorf("%s: round trip differs\n got %v\nwant %v", era, got, events)
		}
	}
}

// TestUARoundTrip: every golden report, as the sidecar sends it over UA,
// maps back to the same events: contract.EventsFromUAHits reads what contract.UAHits sent.
func TestUARoundTrip(t *testing.T) {
	t.Parallel()
	for era, events := range goldenReports(t) {
		reqs := sidecarRequests(t, "UA-151671255-3", "cluster-1", node(events))
		var got []contract.Event
		for _, r := range reqs {
			d, rerr := decodeUA(r.Body)
			if rerr != nil {
				t.Fatalf("%s: %v in %s", era, rerr, r.Body)
			}
			for _, dr := range d.Dropped {
				t.Errorf("%s: dropped hit %d: %v", era, dr.Index, dr.Err)
			}
			if d.TrackingID != "UA-151671255-3" || d.ClientID != "cluster-1" {
				t.Errorf("%s: tid %q cid %q", era, d.TrackingID, d.ClientID)
			}
			got = append(got, d.Events...)
		}
		if !reflect.DeepEqual(got, events) {
			t.Errorf("%s: round trip differs\n got %v\nwant %v", era, got, events)
		}
	}
}

// TestUAFromMongooseIM: the hits MongooseIM 5.1 itself sent (strings in
// double quotes, no URL encoding; see the reference §5.2), config_type
// after the pools, stanza counts in the next batch.
func TestUAFromMongooseIM(t *testing.T) {
	t.Parallel()
	const cid = `"0f9c3a1e-6d2b-4c8e-9a51-3b7e2d4c5f60"`
	hits := []string{
		"ec=hosts&ea=count&el=1", "ec=domains&ea=count&el=1", "ec=mod_adhoc&ea=none&el=none",
		"ec=mod_vcard&ea=backend&el=mnesia", `ec=mod_push_service_mongoosepush&ea=api_version&el="v3"`,
		"ec=custom_modules&ea=count&el=2", `ec=cluster&ea=uptime&el="0000-00:05:00"`,
		"ec=cluster&ea=number_of_nodes&el=1", `ec=cluster&ea=mim_version&el="5.1.0"`,
		"ec=cluster&ea=number_of_components&el=0", "ec=http_api&ea=mod_bosh&el=enabled",
		"ec=transport_mechanism&ea=tcp&el=enabled", "ec=tls_option&ea=starttls&el=fast_tls",
		"ec=outgoing_pools&ea=type&el=rdbms", "ec=cluster&ea=config_type&el=toml", "ec=xmppMessageSent&ea=12&el=12",
	}
	var lines []string
	for _, h := range hits {
		lines = append(lines, "v=1&tid=UA-151671255-3&t=event&cid="+cid+"&"+h)
	}
	d, rerr := decodeUA([]byte(strings.Join(lines, "\n")))
	if rerr != nil {
		t.Fatal(rerr)
	}
	if len(d.Dropped) > 0 {
		t.Errorf("dropped %v", d.Dropped[0].Err)
	}
	if d.ClientID != "0f9c3a1e-6d2b-4c8e-9a51-3b7e2d4c5f60" {
		t.Errorf("client id %q: the quotes should go", d.ClientID)
	}
	want := `[host_count map[value:1] domain_count map[value:1] module_with_opt map[module:mod_adhoc] ` +
		`module_with_opt map[backend:mnesia module:mod_vcard] module_with_opt map[api_version:v3 module:mod_push_service_mongoosepush] ` +
		`custom_module_count map[value:2] cluster map[component:0 node_number:1 uptime:0000-00:05:00 version:5.1.0] ` +
		`http_api map[mod_bosh:enabled] transport_mechanism map[tcp:enabled] tls_option map[mode:starttls module:fast_tls] ` +
		`outgoing_pool map[value:rdbms] cluster map[config_type:toml] xmpp_stanza_count map[increment:12 stanza_type:xmppMessageSent total:12]]`
	var got []string
	for _, e := range d.Events {
		got = append(got, fmt.Sprint(e.Name, " ", e.Params))
	}
	if g := "[" + strings.Join(got, " ") + "]"; g != want {
		t.Errorf("events\n got %s\nwant %s", g, want)
	}
}

func TestUARequestErrors(t *testing.T) {
	t.Parallel()
	hit := "v=1&tid=UA-1-1&t=event&cid=c&ec=hosts&ea=count&el=1"
	tests := []struct{ body, want string }{
		{"", "the body holds no hit"},
		{strings.Repeat(hit+"\n", 21), "21 hits, more than 20 in one batch"},
		{"v=2&tid=UA-1-1&cid=c", `hit 1: v must be 1 (the protocol version), got "2"`},
		{"v=1&cid=c", "tid is missing"},
		{"v=1&tid=UA-1-1", "cid is missing"},
		{hit + "\nv=1&tid=UA-2-1&t=event&cid=c&ec=hosts&ea=count&el=1", "hit 2 has another tracking id than hit 1; send one property per batch"},
		{hit + "\nv=1&tid=UA-1-1&t=event&cid=d&ec=hosts&ea=count&el=1", "hit 2 has another client id than hit 1; send one cluster per batch"},
		{"v=1&tid=UA-1-1&cid=c&ec=%zz", `hit 1 is not URL-encoded parameters: invalid URL escape "%zz"`},
	}
	for _, tc := range tests {
		_, rerr := decodeUA([]byte(tc.body))
		if rerr == nil || rerr.Error() != tc.want {
			t.Errorf("decodeUA(%.40q) = %v, want %q", tc.body, rerr, tc.want)
		}
	}
}

func TestGA4RequestErrors(t *testing.T) {
	t.Parallel()
	ev := `{"name":"host_count","params":{"value":1}}`
	many := strings.TrimSuffix(strings.Repeat(ev+",", 26), ",")
	tests := []struct{ body, want, code string }{
		{`nope`, "the body is not a JSON object: invalid character 'o' in literal null (expecting 'u')", "VALUE_INVALID"},
		{`{"events":[` + ev + `]}`, "client_id is missing", "VALUE_REQUIRED"},
		{`{"client_id":7,"events":[` + ev + `]}`, "client_id must be a string", "VALUE_INVALID"},
		{`{"client_id":""}`, "client_id is empty", "VALUE_INVALID"},
		{`{"client_id":"c"}`, "events is missing", "VALUE_REQUIRED"},
		{`{"client_id":"c","events":{}}`, "events must be an array", "VALUE_INVALID"},
		{`{"client_id":"c","events":[]}`, "events is empty", "VALUE_INVALID"},
		{`{"client_id":"c","events":[` + many + `]}`, "26 events, more than 25 in one request", "EXCEEDED_MAX_ENTITIES"},
		{`{"client_id":"c","timestamp_micros":-5,"events":[` + ev + `]}`, "timestamp_micros must be a positive integer (microseconds since 1970)", "VALUE_INVALID"},
		{`{"client_id":"c","user_properties":[],"events":[` + ev + `]}`, "user_properties must be an object", "VALUE_INVALID"},
		{`{"client_id":"c","non_personalized_ads":"yes","events":[` + ev + `]}`, "non_personalized_ads must be true or false", "VALUE_INVALID"},
		{`{"client_id":"c","user_properties":{"mim_batch":{"value":-1}},"events":[` + ev + `]}`, `user_properties.mim_batch must be {"value": N}, N the request's position from 0`, "VALUE_INVALID"},
		{`{"client_id":"c","user_properties":{"mim_batch":"x"},"events":[` + ev + `]}`, `user_properties.mim_batch must be {"value": N}, N the request's position from 0`, "VALUE_INVALID"},
		{`{"client_id":"c","events":[` + ev + `]} {}`, "the body is not a JSON object: data after the JSON value", "VALUE_INVALID"},
	}
	for _, tc := range tests {
		_, rerr := decodeGA4([]byte(tc.body))
		if rerr == nil || rerr.Error() != tc.want || rerr.Code != tc.code {
			t.Errorf("decodeGA4(%.50s) = %v, want %q (%s)", tc.body, rerr, tc.want, tc.code)
		}
	}
	d, rerr := decodeGA4([]byte(`{"client_id":"c","timestamp_micros":"1700000000000000","user_properties":{"a":{"value":1}},"non_personalized_ads":true,"events":[` + ev + `]}`))
	if rerr != nil || d.TimestampMicros != 1700000000000000 || len(d.Events) != 1 {
		t.Errorf("a full request: %v %+v", rerr, d)
	}
}

// TestEventDrops: a bad event is dropped with its reason, the rest kept.
func TestEventDrops(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 101)
	var manyParams []string
	for i := range 26 {
		manyParams = append(manyParams, fmt.Sprintf(`"p%d":"x"`, i))
	}
	tests := []struct{ event, reason, msg string }{
		{`{"name":"host_count","params":{"value":3}}`, "", ""},
		{`{"name":"no_such_event","params":{}}`, reasonUnknownEvent, `event "no_such_event" is not one of MongooseIM's system metrics events`},
		{`{"name":"` + strings.Repeat("a", 41) + `","params":{}}`, reasonBadName, "is longer than 40 characters"},
		{`{"name":"_x","params":{}}`, reasonBadName, "must start with a letter"},
		{`{"name":"cluster","params":{` + strings.Join(manyParams, ",") + `}}`, reasonTooManyParams, `event "cluster" has 26 params, more than 25`},
		{`{"name":"host_count","params":{"count":3}}`, reasonUnknownParam, `event "host_count" has no param "count"`},
		{`{"name":"host_count","params":{"value":"3"}}`, reasonWrongType, `event "host_count": param "value" must be an integer, got a string`},
		{`{"name":"host_count","params":{"value":1.5}}`, reasonWrongType, `param "value" must be an integer, got "1.5"`},
		{`{"name":"outgoing_pool","params":{"value":7}}`, reasonWrongType, `param "value" must be a string, got a number`},
		{`{"name":"module_with_opt","params":{"module":"mod_x","api_version":"` + long + `"}}`, reasonBadValue, "is 101 characters, more than 100"},
		{`{"name":"host_count","params":{"value":-1}}`, reasonImplausible, `param "value" is -1, outside what a node reports (0 to 1000000)`},
		{`{"name":"cluster","params":{"version":"<script>alert(1)</script>"}}`, reasonImplausible, "is not a server version"},
		{`{"name":"cluster","params":{"version":"6.2.1-12-gabc1234","uptime":"0001-23:59:59","node_number":1000,"component":0}}`, "", ""},
		{`{"name":"cluster","params":{"uptime":"5 days"}}`, reasonImplausible, "is not DDDD-HH:MM:SS"},
		{`{"name":"cluster","params":{"node_number":0}}`, reasonImplausible, `param "node_number" is 0, outside what a node reports (1 to 1000)`},
		{`{"name":"cluster","params":{"node_number":1001}}`, reasonImplausible, `param "node_number" is 1001, outside what a node reports (1 to 1000)`},
		// A poison pill: numbers a node cannot report, which overflow sums.
		{`{"name":"xmpp_stanza_count","params":{"stanza_type":"xmppIqSent","total":1,"increment":9223372036854775807}}`, reasonImplausible, `param "increment" is 9223372036854775807, outside`},
		{`{"name":"xmpp_stanza_count","params":{"stanza_type":"xmppIqSent","total":9223372036854775807,"increment":1}}`, reasonImplausible, `param "total" is 9223372036854775807, outside`},
		{`{"name":"xmpp_stanza_count","params":{"stanza_type":"xmppIqSent","total":1,"increment":-9223372036854775808}}`, reasonImplausible, `param "increment" is -9223372036854775808, outside`},
		{`{"name":"domain_count","params":{"value":100000001}}`, reasonImplausible, `outside what a node reports (0 to 100000000)`},
		{`{"name":"cluster","params":{"component":1000001}}`, reasonImplausible, `param "component" is 1000001`},
		{`{"name":"module_with_opt","params":{"module":"<svg onload=alert(1)>"}}`, reasonImplausible, "is not a name MongooseIM uses"},
		{`{"name":"xmpp_stanza_count","params":{"stanza_type":"xmppIqSent","total":5,"increment":-2}}`, "", ""},
		{`{"name":"xmpp_stanza_count","params":{"stanza_type":"xmppIqSent","total":-5,"increment":2}}`, reasonImplausible, `param "total" is -5, outside`},
		{`"just a string"`, reasonBadValue, "an event must be an object"},
		{`{"name":"host_count","params":[1]}`, reasonBadValue, "params must be an object"},
	}
	for _, tc := range tests {
		body := `{"client_id":"c","events":[{"name":"domain_count","params":{"value":2}},` + tc.event + `]}`
		d, rerr := decodeGA4([]byte(body))
		if rerr != nil {
			t.Fatalf("%s: %v", tc.event, rerr)
		}
		if tc.reason == "" {
			if len(d.Dropped) != 0 || len(d.Events) != 2 {
				t.Errorf("%.60s: dropped %v", tc.event, d.Dropped)
			}
			continue
		}
		if len(d.Events) != 1 || d.Events[0].Name != "domain_count" {
			t.Errorf("%.60s: the good event should be kept alone: %v", tc.event, d.Events)
		}
		if len(d.Dropped) != 1 || d.Dropped[0].Index != 1 {
			t.Errorf("%.60s: dropped %v", tc.event, d.Dropped)
			continue
		}
		if err := d.Dropped[0].Err; err.Reason != tc.reason || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%.60s: dropped for %q %q, want %q %q", tc.event, err.Reason, err, tc.reason, tc.msg)
		}
	}
}

func TestValidationMessages(t *testing.T) {
	t.Parallel()
	d, rerr := decodeGA4([]byte(`{"client_id":"c","events":[{"name":"host_count","params":{"value":1}},{"name":"cluster","params":{"node_number":0}}]}`))
	got, _ := json.Marshal(validationMessages(d, rerr))
	want := `[{"fieldPath":"events[1].params.node_number","description":"event \"cluster\": param \"node_number\" is 0, outside what a node reports (1 to 1000)","validationCode":"VALUE_INVALID"}]`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	_, rerr = decodeGA4([]byte(`{"events":[]}`))
	got, _ = json.Marshal(validationMessages(nil, rerr))
	if want := `[{"fieldPath":"client_id","description":"client_id is missing","validationCode":"VALUE_REQUIRED"}]`; string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	d, _ = decodeGA4([]byte(`{"client_id":"c","events":[{"name":"host_count","params":{"value":1}}]}`))
	if got, _ := json.Marshal(validationMessages(d, nil)); string(got) != "[]" {
		t.Errorf("a good request: %s", got)
	}
}

func TestReportFiles(t *testing.T) {
	t.Parallel()
	sidecar := `{"client_id":"c-1","generated_at":"2026-12-01T10:00:00Z","nodes":[` +
		`{"node":"mim1@sentinel-host","events":[{"name":"host_count","params":{"value":3}},{"name":"bogus","params":{}}]},` +
		`{"node":"mim2@sentinel-host","error":"unreachable","events":[]}],"destinations":[]}`
	f, rerr := decodeReportFile([]byte(sidecar))
	if rerr != nil {
		t.Fatal(rerr)
	}
	if f.ClientID != "c-1" || f.GeneratedAt.Format("2006-01-02T15") != "2026-12-01T10" || len(f.Nodes) != 2 ||
		len(f.Nodes[0].Events) != 1 || len(f.Nodes[0].Dropped) != 1 || len(f.Nodes[1].Events) != 0 {
		t.Errorf("sidecar file: %+v", f)
	}
	mim := `[{"name":"host_count","params":{"value":1}},{"name":"cluster","params":{"version":"6.2.1","node_number":2}}]`
	f, rerr = decodeReportFile([]byte(mim))
	if rerr != nil || f.ClientID != "" || len(f.Nodes) != 1 || len(f.Nodes[0].Events) != 2 {
		t.Errorf("MongooseIM 6.1+ file: %v %+v", rerr, f)
	}
	legacy := `[{"value":1,"report_name":"hosts","key":"count"},{"value":[118,51],"report_name":"mod_push_service_mongoosepush","key":"api_version"},` +
		`{"value":"5.0.0","report_name":"cluster","key":"mim_version"},{"value":{},"report_name":"x","key":"y"}]`
	f, rerr = decodeReportFile([]byte(legacy))
	if rerr != nil || len(f.Nodes) != 1 {
		t.Fatalf("legacy file: %v %+v", rerr, f)
	}
	if got := fmt.Sprint(f.Nodes[0].Events); got != "[{host_count map[value:1]} {module_with_opt map[api_version:v3 module:mod_push_service_mongoosepush]} {cluster map[version:5.0.0]}]" {
		t.Errorf("legacy events: %s", got)
	}
	if len(f.Nodes[0].Dropped) != 1 {
		t.Errorf("legacy dropped: %v", f.Nodes[0].Dropped)
	}
	for body, want := range map[string]string{
		"":             "the report file is empty",
		"hello":        "the report file is not JSON: expected the sidecar's object or MongooseIM's array of events",
		`{"nodes":[]}`: "client_id is missing",
		`{"client_id":"c","generated_at":"yesterday"}`: `generated_at "yesterday" is not an RFC 3339 time`,
		`[1,2]`: "the report file is not an array of events: json: cannot unmarshal number into Go value of type map[string]json.RawMessage",
	} {
		if _, rerr := decodeReportFile([]byte(body)); rerr == nil || rerr.Error() != want {
			t.Errorf("decodeReportFile(%q) = %v, want %q", body, rerr, want)
		}
	}
}
