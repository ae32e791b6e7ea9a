package metrics

// A metric is declared once, in the Erlang module that gathers it
// (erl/mim_metrics_mongooseim.erl, erl/mim_metrics_ejabberd.erl), as a
// -metric(#{...}). attribute: its catalog entry (the event a report
// carries, its params and what it means: the README's "What is sent"
// table), the fields the gather computes for it on a node, each a clause
// of that module's metric/2, with the nodes it is asked of, and how the
// answer becomes events (a builder of eventBuilders). The gather asks
// exactly the declared fields; the report's events come in declaration
// order. See docs/adding-a-metric.md.
type metric struct {
	// EventSpec is the catalog entry; without a Name, the fields are ones
	// the collector uses itself and never reports.
	EventSpec
	fields []field
	// paramsFrom names the whitelist the params are (handlers,
	// transports), if they are one.
	paramsFrom string
	// events makes the metric's events from the gather's answer.
	events func(r *reading) []Event
}

// field is one field of the gather.
type field struct {
	name string // the clause of metric/2 that computes it
	when gate   // the nodes it is asked of
	// quick fields make no call that may block (BIFs, reads of the
	// configuration): one process computes them all; the others get a
	// process each (see mim_metrics_gather:fields/4).
	quick bool
}

// gate selects the nodes a field applies to: those whose probe reports the
// feature (a name of mim_metrics_probe:features/0; "" for any) and whose
// MongooseIM generation is since or newer.
type gate struct {
	feature string
	since   [3]int
}

func (g gate) holds(f Flavor) bool {
	return (g.feature == "" || f.has[g.feature]) && f.atLeast(g.since[0], g.since[1], g.since[2])
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
var eventBuilders = map[string]func(r *reading, event, field string) []Event{
	// count: the field's number as the event's value.
	"count": func(r *reading, event, field string) []Event { return countEvent(r.fs, event, field) },
	// each_value: one event per identifier of the field's list.
	"each_value": func(r *reading, event, field string) []Event { return eachValueEvents(r.fs, event, field) },
	// flags: one event with a param per identifier of the field's list.
	"flags": func(r *reading, event, field string) []Event { return []Event{flagEvent(r.fs, event, field)} },
	// modules: MongooseIM's modules and their options (see moduleEvents).
	"modules": func(r *reading, _, _ string) []Event { return moduleEvents(r.fs) },
	// module_pairs: {Module, Backend} pairs of each host (ejabberd).
	"module_pairs": func(r *reading, _, field string) []Event { return pairModuleEvents(r.fs, field) },
	// cluster: uptime, version, components, node count and config type.
	"cluster": func(r *reading, _, _ string) []Event {
		if r.f.Server == Ejabberd {
			return []Event{clusterEvent(r.fs, ejabberdConfigType)}
		}
		return []Event{clusterEvent(r.fs, mimConfigType)}
	},
	// tls: a listener's TLS mode and library.
	"tls": func(r *reading, _, _ string) []Event { return tlsEvents(r.fs) },
	// tls_on: the same, leaving out listeners without TLS (ejabberd).
	"tls_on": func(r *reading, _, _ string) []Event {
		var out []Event
		for _, e := range tlsEvents(r.fs) {
			if e.Params["mode"] != "none" {
				out = append(out, e)
			}
		}
		return out
	},
	// stanzas: the stanza counts and their increments since the last report.
	"stanzas": func(r *reading, _, _ string) []Event {
		var evs []Event
		evs, r.totals = stanzaCountEvents(r.fs, r.prev)
		return evs
	},
}

// mongooseIMMetrics are the metrics of a MongooseIM node, in MongooseIM
// 6.1+'s event order; ejabberdMetrics those of an ejabberd node (checked
// against 23.01), with MongooseIM's events.
var mongooseIMMetrics, ejabberdMetrics = mustDeclare()

func mustDeclare() (mim, ejabberd []metric) {
	mim, err := declared("mim_metrics_mongooseim", nil)
	if err == nil {
		ejabberd, err = declared("mim_metrics_ejabberd", mim)
	}
	if err != nil {
		panic(err) // the embedded modules are checked by the tests
	}
	return mim, ejabberd
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
		for _, fl := range m.fields {
			if !fl.when.holds(f) || seen[fl.name] {
				continue
			}
			seen[fl.name] = true
			if fl.quick {
				quick = append(quick, fl.name)
			} else {
				slow = append(slow, fl.name)
			}
		}
	}
	return quick, slow
}

// events builds a node's report from its gather's answer, in declaration
// order. prev holds the node's previous stanza totals (nil on a first
// report); the new totals are returned.
func events(f Flavor, fs fields, prev StanzaTotals) ([]Event, StanzaTotals) {
	r := &reading{f: f, fs: fs, prev: prev, totals: prev}
	var out []Event
	for _, m := range metricsOf(f) {
		if m.events != nil {
			out = append(out, m.events(r)...)
		}
	}
	return dropEmpty(out), r.totals
}

// EventSpec describes one event the collector can produce.
type EventSpec struct {
	Name string
	// Params are the param names the event can carry. For http_api and
	// transport_mechanism they are the handler names of the whitelists.
	Params []string
	// Doc says what the event means, for the README.
	Doc string
	// Numbers are the params whose values are numbers (int64); every other
	// param's value is a string.
	Numbers []string
	// Ranges are the plausible values of each of Numbers: what one node
	// can report in one period (declared in metrics/erl/*.erl).
	Ranges map[string]Range
	// Flags: the event has a param for each item enabled (of Params), its
	// value "enabled".
	Flags bool
}

// Range is the plausible values of a number param, Min to Max included.
type Range struct{ Min, Max int64 }

// Contains says whether n is in the range.
func (r Range) Contains(n int64) bool { return n >= r.Min && n <= r.Max }

// Catalog lists every event and param a report can contain: nothing else
// is ever sent. It is made of the declared metrics; the README's "What is
// sent" section is checked against it.
func Catalog() []EventSpec {
	var out []EventSpec
	seen := map[string]bool{}
	for _, ms := range [][]metric{mongooseIMMetrics, ejabberdMetrics} {
		for _, m := range ms {
			if m.Name == "" || seen[m.Name] {
				continue
			}
			seen[m.Name] = true
			s := m.EventSpec
			switch m.paramsFrom {
			case "handlers":
				s.Params = handlerNames()
			case "transports":
				s.Params = append([]string{"tcp"}, transportNames()...)
			}
			out = append(out, s)
		}
	}
	return out
}

// The whitelists: filter_unknown_api/1 of each MongooseIM generation, and
// ejabberd's handlers and transports.
var (
	ejabberdAPIs       = []string{"mod_http_api", "ejabberd_xmlrpc", "ejabberd_web_admin", "mod_bosh", "ejabberd_http_ws", "mod_http_upload", "mod_mqtt_ws", "mod_conversejs"}
	ejabberdTransports = []string{"mod_bosh", "ejabberd_http_ws"}
)

// apiWhitelist is filter_unknown_api/1 of the flavor's generation: the
// HTTP handlers MongooseIM reports by name.
func (f Flavor) apiWhitelist() []string {
	switch {
	case f.atLeast(6, 6, 0):
		return []string{"mongoose_bosh_handler", "mongoose_graphql_handler", "mongoose_websocket_handler"}
	case f.atLeast(6, 0, 0):
		return []string{"mongoose_client_api", "mongoose_admin_api", "mod_bosh", "mod_websockets"}
	case f.atLeast(5, 1, 0):
		return []string{"mongoose_api", "mongoose_client_api", "mongoose_api_admin", "mongoose_api_client",
			"mongoose_domain_handler", "mod_bosh", "mod_websockets"}
	}
	return []string{"mongoose_api", "mongoose_client_api_rooms_messages", "mongoose_client_api_rooms_users",
		"mongoose_client_api_rooms_config", "mongoose_client_api_rooms", "mongoose_client_api_contacts",
		"mongoose_client_api_messages", "lasse_handler", "mongoose_api_admin", "mod_bosh", "mod_websockets", "mod_revproxy"}
}

// transportHandlers are the HTTP handlers that count as transports.
func (f Flavor) transportHandlers() []string {
	if f.atLeast(6, 6, 0) {
		return []string{"mongoose_bosh_handler", "mongoose_websocket_handler"}
	}
	return []string{"mod_bosh", "mod_websockets"}
}

// whitelistGens are generations whose whitelists differ.
var whitelistGens = []Flavor{{Gen: [3]int{3, 6, 0}}, {Gen: [3]int{5, 1, 0}}, {Gen: [3]int{6, 0, 0}}, {Gen: [3]int{6, 6, 0}}}

func handlerNames() []string {
	set := map[string]bool{}
	for _, f := range whitelistGens {
		for _, n := range f.apiWhitelist() {
			set[n] = true
		}
	}
	for _, n := range ejabberdAPIs {
		set[n] = true
	}
	return sortedKeys(set)
}

func transportNames() []string {
	set := map[string]bool{}
	for _, f := range whitelistGens {
		for _, n := range f.transportHandlers() {
			set[n] = true
		}
	}
	for _, n := range ejabberdTransports {
		set[n] = true
	}
	return sortedKeys(set)
}
