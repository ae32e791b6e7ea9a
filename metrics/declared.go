package metrics

import "sort"

// A metric is declared once, here: its catalog entry (the event a report
// carries, its params and what it means: the README's "What is sent"
// table), the fields the gather computes for it on a node, each a clause
// of metric/2 in the server's Erlang module (erl/mim_metrics_mongooseim.erl,
// erl/mim_metrics_ejabberd.erl) with the nodes it is asked of, and how the
// answer becomes events. The gather asks exactly the declared fields; the
// report's events come in declaration order. See docs/adding-a-metric.md.
type metric struct {
	// EventSpec is the catalog entry; without a Name, the fields are ones
	// the collector uses itself and never reports.
	EventSpec
	fields []field
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

func always() gate                       { return gate{} }
func needs(feature string) gate          { return gate{feature: feature} }
func since(major, minor, patch int) gate { return gate{since: [3]int{major, minor, patch}} }

func (g gate) holds(f Flavor) bool {
	return (g.feature == "" || f.has[g.feature]) && f.atLeast(g.since[0], g.since[1], g.since[2])
}

// slow are fields of every node, each computed in a process of its own.
func slow(names ...string) []field {
	out := make([]field, len(names))
	for i, n := range names {
		out[i] = field{name: n, when: always()}
	}
	return out
}

// quick are fields of every node that make no call that may block.
func quick(names ...string) []field {
	out := slow(names...)
	for i := range out {
		out[i].quick = true
	}
	return out
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

// The specs MongooseIM and ejabberd share.
var (
	hostCountSpec   = EventSpec{"host_count", []string{"value"}, "number of static hosts and host types", []string{"value"}}
	moduleSpec      = EventSpec{"module_with_opt", []string{"module", "backend", "online_backend", "api_version"}, "one per host type and MongooseIM (or ejabberd) module: the module's name and backends", nil}
	customCountSpec = EventSpec{"custom_module_count", []string{"value"}, "number of loaded modules that are not the server's own (never named)", []string{"value"}}
	clusterSpec     = EventSpec{"cluster", []string{"uptime", "version", "component", "node_number", "config_type"},
		"node uptime (DDDD-HH:MM:SS), server version, connected external components, cluster size, config format",
		[]string{"component", "node_number"}}
	httpAPISpec   = EventSpec{"http_api", nil, "enabled HTTP handlers from a fixed list", nil} // Params: every whitelist, see Catalog
	transportSpec = EventSpec{"transport_mechanism", nil, "enabled transports", nil}           // Params: tcp and every transport handler
	tlsSpec       = EventSpec{"tls_option", []string{"mode", "module"}, "TLS mode and library of the c2s listeners (MongooseIM before 6.4)", nil}
)

// mongooseIMMetrics are the metrics of a MongooseIM node, in MongooseIM
// 6.1+'s event order.
var mongooseIMMetrics = []metric{
	{EventSpec: hostCountSpec, fields: quick("host_count"),
		events: func(r *reading) []Event { return countEvent(r.fs, "host_count", "host_count") }},
	{EventSpec: EventSpec{"domain_count", []string{"value"}, "number of domains, dynamic ones included (MongooseIM 5.0+)", []string{"value"}},
		fields: []field{{name: "domain_count", when: needs("domain_core"), quick: true}},
		events: func(r *reading) []Event { return countEvent(r.fs, "domain_count", "domain_count") }},
	{EventSpec: moduleSpec, fields: slow("modules"),
		events: func(r *reading) []Event { return moduleEvents(r.fs) }},
	{EventSpec: customCountSpec, fields: slow("custom_module_count"),
		events: func(r *reading) []Event { return countEvent(r.fs, "custom_module_count", "custom_module_count") }},
	{EventSpec: clusterSpec,
		fields: append(append(quick("uptime_ms", "node_number"), slow("version", "component")...),
			field{name: "config_path", when: needs("mongoose_config_path"), quick: true},
			field{name: "config_path", when: needs("ejabberd_config_path"), quick: true}),
		events: func(r *reading) []Event { return []Event{clusterEvent(r.fs, mimConfigType)} }},
	{EventSpec: httpAPISpec, fields: quick("http_api"),
		events: func(r *reading) []Event { return []Event{flagEvent(r.fs, "http_api")} }},
	{EventSpec: transportSpec, fields: quick("transport_mechanism"),
		events: func(r *reading) []Event { return []Event{flagEvent(r.fs, "transport_mechanism")} }},
	{EventSpec: tlsSpec, fields: quick("tls_option"),
		events: func(r *reading) []Event { return tlsEvents(r.fs) }},
	{EventSpec: EventSpec{"outgoing_pool", []string{"value"}, "type of each outgoing connection pool (rdbms, http, redis...)", nil},
		fields: []field{{name: "outgoing_pool", when: since(3, 7, 0), quick: true}},
		events: func(r *reading) []Event { return eachValueEvents(r.fs, "outgoing_pool", "outgoing_pool") }},
	{EventSpec: EventSpec{"xmpp_stanza_count", []string{"stanza_type", "total", "increment"},
		"messages, IQs and presences sent and received: total and increase since the previous report",
		[]string{"total", "increment"}},
		fields: []field{{name: "stanzas", when: since(3, 7, 0)}},
		events: func(r *reading) []Event {
			var evs []Event
			evs, r.totals = stanzaCountEvents(r.fs, r.prev)
			return evs
		}},
	// Used by the collector: the members this node knows (see
	// Collector.Collect), whether MongooseIM's own service runs, and the
	// Cluster ID.
	{fields: append(quick("nodes", "builtin_service"), field{name: "cluster_id", when: needs("cluster_id")})},
}

// ejabberdMetrics are the metrics of an ejabberd node (checked against
// 23.01), with MongooseIM's events.
var ejabberdMetrics = []metric{
	{EventSpec: hostCountSpec, fields: quick("host_count"),
		events: func(r *reading) []Event { return countEvent(r.fs, "host_count", "host_count") }},
	{EventSpec: moduleSpec, fields: slow("host_modules"),
		events: func(r *reading) []Event { return pairModuleEvents(r.fs, "host_modules") }},
	{EventSpec: customCountSpec, fields: slow("custom_module_count"),
		events: func(r *reading) []Event { return countEvent(r.fs, "custom_module_count", "custom_module_count") }},
	{EventSpec: clusterSpec, fields: append(quick("uptime_ms", "config_path"), slow("version", "component", "node_number")...),
		events: func(r *reading) []Event { return []Event{clusterEvent(r.fs, ejabberdConfigType)} }},
	{EventSpec: httpAPISpec, fields: quick("http_api"),
		events: func(r *reading) []Event { return []Event{flagEvent(r.fs, "http_api")} }},
	{EventSpec: transportSpec, fields: quick("transport_mechanism"),
		events: func(r *reading) []Event { return []Event{flagEvent(r.fs, "transport_mechanism")} }},
	{EventSpec: tlsSpec, fields: quick("tls_option"),
		events: func(r *reading) []Event {
			var out []Event
			for _, e := range tlsEvents(r.fs) {
				if e.Params["mode"] != "none" {
					out = append(out, e)
				}
			}
			return out
		}},
	{fields: quick("nodes", "builtin_service")},
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
}

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
			switch s.Name {
			case "http_api":
				s.Params = handlerNames()
			case "transport_mechanism":
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

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
