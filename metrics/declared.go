package metrics

import (
	"fmt"
	"sort"

	"github.com/mim-metrics/mim-metrics/contract"
)

// A metric is declared once, in the Erlang module that gathers it
// (contract/erl/mim_metrics_mongooseim.erl,
// contract/erl/mim_metrics_ejabberd.erl), as a -metric(#{...}). attribute
// read by package contract: its catalog entry, the fields the gather
// computes for it on a node, and how the answer becomes events (a builder
// of eventBuilders). The gather asks exactly the declared fields; the
// report's events come in declaration order. See docs/adding-a-metric.md.
type metric struct {
	contract.Declaration
	// events makes the metric's events from the gather's answer; nil for
	// fields the collector uses itself.
	events func(r *reading) []contract.Event
}

// holds says whether field fl is asked of a node of flavor f: its feature
// (if any) is reported and its generation reached.
func holds(fl contract.Field, f Flavor) bool {
	return (fl.Feature == "" || f.has[fl.Feature]) && f.atLeast(fl.Since[0], fl.Since[1], fl.Since[2])
}

// reading is what an events function reads: the node's flavor, the
// gather's answer, and the stanza totals of its previous report (nil on a
// first one); stanza events set totals to the new ones.
type reading struct {
	f      Flavor
	fs     fields
	prev   StanzaTotals
	totals StanzaTotals
}

// eventBuilders are the ways a declaration's answer becomes events (its
// events key), each given the event's name and the metric's first field.
var eventBuilders = map[string]func(r *reading, event, field string) []contract.Event{
	// count: the field's number as the event's value.
	"count": func(r *reading, event, field string) []contract.Event { return countEvent(r.fs, event, field) },
	// each_value: one event per identifier of the field's list.
	"each_value": func(r *reading, event, field string) []contract.Event { return eachValueEvents(r.fs, event, field) },
	// flags: one event with a param per identifier of the field's list.
	"flags": func(r *reading, event, field string) []contract.Event {
		return []contract.Event{flagEvent(r.fs, event, field)}
	},
	// modules: MongooseIM's modules and their options (see moduleEvents).
	"modules": func(r *reading, _, _ string) []contract.Event { return moduleEvents(r.fs) },
	// module_pairs: {Module, Backend} pairs of each host (ejabberd).
	"module_pairs": func(r *reading, _, field string) []contract.Event { return pairModuleEvents(r.fs, field) },
	// cluster: uptime, version, components, node count and config type.
	"cluster": func(r *reading, _, _ string) []contract.Event {
		if r.f.Server == Ejabberd {
			return []contract.Event{clusterEvent(r.fs, ejabberdConfigType)}
		}
		return []contract.Event{clusterEvent(r.fs, mimConfigType)}
	},
	// tls: a listener's TLS mode and library.
	"tls": func(r *reading, _, _ string) []contract.Event { return tlsEvents(r.fs) },
	// tls_on: the same, leaving out listeners without TLS (ejabberd).
	"tls_on": func(r *reading, _, _ string) []contract.Event {
		var out []contract.Event
		for _, e := range tlsEvents(r.fs) {
			if e.Params["mode"] != "none" {
				out = append(out, e)
			}
		}
		return out
	},
	// stanzas: the stanza counts and their increments since the last report.
	"stanzas": func(r *reading, _, _ string) []contract.Event {
		var evs []contract.Event
		evs, r.totals = stanzaCountEvents(r.fs, r.prev)
		return evs
	},
}

// mongooseIMMetrics are the metrics of a MongooseIM node, in MongooseIM
// 6.1+'s event order; ejabberdMetrics those of an ejabberd node (checked
// against 23.01), with MongooseIM's events.
var mongooseIMMetrics, ejabberdMetrics = mustBuild(contract.MongooseIMDeclarations()), mustBuild(contract.EjabberdDeclarations())

func mustBuild(ds []contract.Declaration) []metric {
	out, err := withBuilders(ds)
	if err != nil {
		panic(err) // the embedded modules are checked by the tests
	}
	return out
}

// withBuilders gives each declaration the builder its events key names.
func withBuilders(ds []contract.Declaration) ([]metric, error) {
	out := make([]metric, len(ds))
	for i, d := range ds {
		out[i].Declaration = d
		if d.Name == "" {
			continue
		}
		build, ok := eventBuilders[d.Builder]
		if !ok {
			return nil, fmt.Errorf("event %s: events: want one of %v, got %s", d.Name, sortedKeys(eventBuilders), d.Builder)
		}
		event, first := d.Name, d.Fields[0].Name
		out[i].events = func(r *reading) []contract.Event { return build(r, event, first) }
	}
	return out, nil
}

// metricsOf are the metrics of a node of flavor f.
func metricsOf(f Flavor) []metric {
	if f.Server == Ejabberd {
		return ejabberdMetrics
	}
	return mongooseIMMetrics
}

// gatheredFields are the fields the gather asks a node of flavor f, each
// once, in declaration order: those it computes itself (quick), and those
// it computes in processes of their own.
func gatheredFields(f Flavor) (quick, slow []string) {
	seen := map[string]bool{}
	for _, m := range metricsOf(f) {
		for _, fl := range m.Fields {
			if !holds(fl, f) || seen[fl.Name] {
				continue
			}
			seen[fl.Name] = true
			if fl.Quick {
				quick = append(quick, fl.Name)
			} else {
				slow = append(slow, fl.Name)
			}
		}
	}
	return quick, slow
}

// events builds a node's report from its gather's answer, in declaration
// order. prev holds the node's previous stanza totals (nil on a first
// report); the new totals are returned.
func events(f Flavor, fs fields, prev StanzaTotals) ([]contract.Event, StanzaTotals) {
	r := &reading{f: f, fs: fs, prev: prev, totals: prev}
	var out []contract.Event
	for _, m := range metricsOf(f) {
		if m.events != nil {
			out = append(out, m.events(r)...)
		}
	}
	return dropEmpty(out), r.totals
}

// apiWhitelist is filter_unknown_api/1 of the flavor's generation: the
// HTTP handlers MongooseIM reports by name.
func (f Flavor) apiWhitelist() []string { return contract.HTTPHandlers(f.Gen) }

// transportHandlers are the HTTP handlers that count as transports.
func (f Flavor) transportHandlers() []string { return contract.TransportHandlers(f.Gen) }

// sortedKeys are m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
