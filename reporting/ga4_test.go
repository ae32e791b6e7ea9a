package reporting

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/test/fakega"
)

// The sidecar's events pass GA4's rules (contract.CheckGA4Event).
func TestMongooseIMEventsAreValidGA4(t *testing.T) {
	t.Parallel()
	for _, e := range mimEvents() {
		if err := contract.CheckGA4Event(e); err != nil {
			t.Errorf("MongooseIM event %s invalid: %v", e.Name, err)
		}
	}
}

func TestGA4BodyShape(t *testing.T) {
	t.Parallel()
	d := Destination{Protocol: GA4, ID: "G-ABC", Secret: "s"}
	reqs, dropped, err := BuildRequests(d, DefaultEndpoint, "cluster-1", time.Time{}, []metrics.NodeReport{{Node: "n", Events: []contract.Event{
		{Name: contract.HostCount, Params: map[string]any{"value": int64(1)}},
		{Name: contract.HTTPAPI},
	}}})
	if err != nil || len(dropped) != 0 || len(reqs) != 1 {
		t.Fatalf("BuildRequests = %d requests, %v dropped, %v", len(reqs), dropped, err)
	}
	want := `{"client_id":"cluster-1","events":[{"name":"host_count","params":{"value":1}},{"name":"http_api","params":{}}]}`
	if got := string(reqs[0].Body); got != want {
		t.Errorf("body\n got %s\nwant %s", got, want)
	}
	if reqs[0].Method != "POST" || reqs[0].Header.Get("Content-Type") != "application/json" {
		t.Errorf("method %s, header %v", reqs[0].Method, reqs[0].Header)
	}
}

// countEvents returns the number of events of each request body.
func countEvents(t *testing.T, reqs []Request) []int {
	t.Helper()
	var n []int
	for _, r := range reqs {
		var b struct{ Events []json.RawMessage }
		if err := json.Unmarshal(r.Body, &b); err != nil {
			t.Fatalf("body does not parse: %v", err)
		}
		if len(b.Events) != r.Events {
			t.Errorf("request says %d events, body has %d", r.Events, len(b.Events))
		}
		n = append(n, len(b.Events))
	}
	return n
}

func TestGA4BatchesOf25(t *testing.T) {
	t.Parallel()
	ga := fakega.New(t)
	var evs []contract.Event
	for i := range 60 {
		evs = append(evs, contract.Event{Name: contract.OutgoingPool, Params: map[string]any{"value": fmt.Sprintf("pool%d", i)}})
	}
	src := &fakeSource{clusterID: "cid", reports: []metrics.NodeReport{
		{Node: "a@h", Server: metrics.MongooseIM, Events: evs},
		{Node: "b@h", Server: metrics.MongooseIM, Events: evs[:3]},
	}}
	log, _ := observed()
	cfg := testConfig(t, src, ga.URL, log)
	cfg.Targets = Targets{Upstream: true}

	reqs, _, err := BuildRequests(upstreamDestination(false), ga.URL, "cid", time.Time{}, src.reports)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(countEvents(t, reqs)); got != "[25 25 10 3]" {
		t.Errorf("events per request = %s, want [25 25 10 3] (per node, at most 25)", got)
	}

	res, err := newService(t, cfg).RunOnce(context.Background())
	if err != nil || !res.Accepted() {
		t.Fatalf("RunOnce = %+v, %v", res, err)
	}
	if got := len(ga.Events()); got != 63 {
		t.Errorf("fake GA got %d events, want 63", got)
	}
	if got := ga.RequestCount(); got != 4 {
		t.Errorf("fake GA got %d requests, want 4", got)
	}
}

func TestGA4SplitsBodiesUnder130kB(t *testing.T) {
	t.Parallel()
	ga := fakega.New(t)
	// 25 params of 100 four-byte characters: about 10 kB per event, so 25
	// events cannot share one body.
	var evs []contract.Event
	for i := range 25 {
		p := map[string]any{}
		for j := range 25 {
			p[fmt.Sprintf("param_%02d", j)] = strings.Repeat("😀", 99) + string(rune('a'+i%26))
		}
		evs = append(evs, contract.Event{Name: "big_event", Params: p})
	}
	reports := []metrics.NodeReport{{Node: "a@h", Server: metrics.MongooseIM, Events: evs}}
	reqs, dropped, err := BuildRequests(upstreamDestination(false), ga.URL, "cid", time.Time{}, reports)
	if err != nil || len(dropped) > 0 {
		t.Fatalf("BuildRequests: %v, dropped %v", err, dropped)
	}
	if len(reqs) < 2 {
		t.Fatalf("got %d request(s), want the 25 events split by size", len(reqs))
	}
	total := 0
	for i, r := range reqs {
		if len(r.Body) >= contract.MaxGA4BodyBytes {
			t.Errorf("request %d body is %d bytes, want < %d", i, len(r.Body), contract.MaxGA4BodyBytes)
		}
		if i < len(reqs)-1 && len(r.Body) < contract.MaxGA4BodyBytes-15_000 {
			t.Errorf("request %d body is only %d bytes: batches are not filled", i, len(r.Body))
		}
		total += r.Events
	}
	if total != 25 {
		t.Errorf("%d events in all requests, want 25", total)
	}

	log, _ := observed()
	src := &fakeSource{clusterID: "cid", reports: reports}
	res, err := newService(t, testConfig(t, src, ga.URL, log)).RunOnce(context.Background())
	if err != nil || !res.Accepted() {
		t.Fatalf("RunOnce = %+v, %v", res, err)
	}
	if got := len(ga.Events()); got != 25 {
		t.Errorf("fake GA got %d events, want 25", got)
	}
}

func TestInvalidEventIsDroppedWithWarning(t *testing.T) {
	t.Parallel()
	ga := fakega.New(t) // fails the test if anything invalid reaches it
	events := []contract.Event{
		{Name: contract.HostCount, Params: map[string]any{"value": int64(1)}},
		{Name: "bad-name", Params: map[string]any{"value": int64(1)}},
		{Name: "session_start"},
		{Name: contract.ModuleWithOpt, Params: map[string]any{"module": "mod_x", "backend": strings.Repeat("x", 101)}},
		{Name: contract.ModuleWithOpt, Params: map[string]any{"module": "mod_y", "opt": map[string]any{"tuple": 1}}},
		{Name: contract.DomainCount, Params: map[string]any{"value": int64(2)}},
	}
	src := &fakeSource{clusterID: "cid", reports: []metrics.NodeReport{{Node: "mim@h", Server: metrics.MongooseIM, Events: events}}}
	log, logs := observed()
	res, err := newService(t, testConfig(t, src, ga.URL, log)).RunOnce(context.Background())
	if err != nil || !res.Accepted() {
		t.Fatalf("RunOnce = %+v, %v", res, err)
	}
	var names []string
	for _, e := range ga.Events() {
		names = append(names, e.Name)
	}
	if got := strings.Join(names, ","); got != "host_count,domain_count" {
		t.Errorf("sent events %s, want host_count,domain_count", got)
	}
	if len(res.Dropped) != 4 {
		t.Errorf("Result.Dropped = %v, want 4", res.Dropped)
	}
	warnings := logs.FilterMessageSnippet("event dropped").All()
	if len(warnings) != 4 {
		t.Fatalf("%d drop warnings, want 4:\n%s", len(warnings), logText(logs))
	}
	for i, want := range []string{"must start with a letter", "reserved", "101 characters", "only strings and numbers"} {
		if reason := warnings[i].ContextMap()["reason"]; !strings.Contains(fmt.Sprint(reason), want) {
			t.Errorf("warning %d reason %q, want it to contain %q", i, reason, want)
		}
		if node := warnings[i].ContextMap()["node"]; node != "mim@h" {
			t.Errorf("warning %d node = %v", i, node)
		}
	}
}
