package contract

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// withDeclared adds the metrics of the -metric attributes of src to the
// catalog for the test's time, as a new metric of contract/erl would be.
func withDeclared(t *testing.T, src string) []EventSpec {
	t.Helper()
	terms, err := attributes(src, "metric")
	if err != nil {
		t.Fatal(err)
	}
	var added []Declaration
	for _, term := range terms {
		d, err := declaration(term.term, nil)
		if err != nil {
			t.Fatal(err)
		}
		added = append(added, d)
	}
	saved, savedRules, savedDimensions := catalog, rules, dimensions
	catalog = buildCatalog(mongooseIMDeclarations, ejabberdDeclarations, added)
	rules, dimensions = buildRules(catalog), buildDimensions(catalog)
	t.Cleanup(func() { catalog, rules, dimensions = saved, savedRules, savedDimensions })
	return Catalog()
}

// sampleEvents are events of spec as a node sends them: every param set,
// and each param alone (the events of a report often carry only some).
func sampleEvents(spec EventSpec) []Event {
	value := func(p string) any {
		switch {
		case spec.Flags:
			return "enabled"
		case spec.Ranges[p] != (Range{}):
			r := spec.Ranges[p]
			return r.Min + (r.Max-r.Min)/3
		case spec.Name == Cluster && p == "version":
			return "6.2.1-12-gabc1234"
		case spec.Name == Cluster && p == "uptime":
			return "0003-04:05:06"
		case spec.Name == XMPPStanzaCount && p == "stanza_type":
			return "xmppPresenceReceived"
		}
		return "a_" + p
	}
	all := map[string]any{}
	for _, p := range spec.Params[:min(len(spec.Params), MaxGA4Params)] {
		all[p] = value(p)
	}
	out := []Event{{Name: spec.Name, Params: all}}
	switch spec.Name {
	case ModuleWithOpt:
		out = append(out, Event{Name: spec.Name, Params: map[string]any{"module": "mod_x"}},
			Event{Name: spec.Name, Params: map[string]any{"module": "mod_x", "backend": "rdbms"}})
	case TLSOption, OutgoingPool, XMPPStanzaCount, HostCount, DomainCount, CustomModuleCount:
		// one hit each: every param always set
	default:
		for _, p := range spec.Params {
			out = append(out, Event{Name: spec.Name, Params: map[string]any{p: value(p)}})
		}
		if spec.Name != Cluster && !spec.Flags {
			// (A flags event without flags sends no UA hit, as in
			// MongooseIM: it states nothing.)
			out = append(out, Event{Name: spec.Name, Params: map[string]any{}})
		}
	}
	return out
}

// The round trip: every event of the catalog, and of metrics a test
// declares, comes back from either wire format as the event sent.
func TestRoundTrip(t *testing.T) {
	specs := withDeclared(t, `
-metric(#{event => max_fsm_queue, doc => "longest queue of a session process",
          params => [value], numbers => [{value, 0, 1000000}], fields => [max_fsm_queue], events => count}).
-metric(#{event => cache_kind, doc => "kind and size of each cache",
          params => [kind, size], numbers => [{size, 0, 1000}], atoms => [kind], fields => [caches], events => caches}).
`)
	names := map[string]bool{}
	var all, report []Event
	for _, spec := range specs {
		names[spec.Name] = true
		samples := sampleEvents(spec)
		all = append(all, samples...)
		report = append(report, samples[0])
		if len(spec.Params) == 1 {
			report = append(report, samples[0]) // as each_value sends them
		}
	}
	for _, n := range []string{"max_fsm_queue", "cache_kind", ModuleWithOpt, Cluster, XMPPStanzaCount} {
		if !names[n] {
			t.Fatalf("the catalog has no %s: %v", n, names)
		}
	}
	for _, e := range all {
		if err := CheckGA4Event(e); err != nil {
			t.Errorf("%v: %v", e, err)
		}
		raw, err := EncodeGA4Event(e)
		if err != nil {
			t.Fatal(err)
		}
		got, rej := DecodeGA4Event(raw)
		if rej != nil || !reflect.DeepEqual(got, e) {
			t.Errorf("GA4: %s came back as %v, %v", raw, got, rej)
		}
		if got := viaUA(t, []Event{e}); !reflect.DeepEqual(got, []Event{e}) {
			t.Errorf("UA: %v came back as %v", e, got)
		}
	}
	// A report's events one after the other: each hit goes to its own
	// event. (Hits of one event are consecutive and its params come in
	// order: two events of one name whose params follow in order would
	// read as one; a report never holds such.)
	if got := viaUA(t, report); !reflect.DeepEqual(got, report) {
		t.Errorf("UA: a report of %d events came back as %d:\n got %v\nwant %v", len(report), len(got), got, report)
	}
}

// viaUA sends events as UA hit lines and reads them back.
func viaUA(t *testing.T, events []Event) []Event {
	t.Helper()
	var hits []UAHit
	for _, e := range events {
		for _, h := range UAHits(e) {
			q, err := url.ParseQuery(EncodeUAHit("UA-1-1", "cluster-1", h))
			if err != nil {
				t.Fatal(err)
			}
			hits = append(hits, UAHit{q.Get("ec"), q.Get("ea"), q.Get("el")})
		}
	}
	var out []Event
	for _, u := range EventsFromUAHits(hits) {
		e, rej := Check(u.Name, u.Params, true)
		if rej != nil {
			t.Errorf("UA: %s %v rejected: %v", u.Name, u.Params, rej)
			continue
		}
		out = append(out, e)
	}
	return out
}

// An event the catalog does not have is rejected, over either format.
func TestUnknownEventsAreRejected(t *testing.T) {
	if _, rej := DecodeGA4Event([]byte(`{"name":"no_such_event","params":{"value":1}}`)); rej == nil || rej.Reason != ReasonUnknownEvent {
		t.Errorf("GA4: %v", rej)
	}
	for _, u := range EventsFromUAHits(UAHits(Event{Name: "no_such_event", Params: map[string]any{"value": int64(1)}})) {
		// Read as a module's options: a module has no param value.
		if _, rej := Check(u.Name, u.Params, true); rej == nil || !strings.Contains(rej.Error(), "no param") {
			t.Errorf("UA: %s %v: %v", u.Name, u.Params, rej)
		}
	}
}
