package metrics

import "sort"

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
// is ever sent. The README's "What is sent" section is checked against it.
func Catalog() []EventSpec {
	return []EventSpec{
		{"host_count", []string{"value"}, "number of static hosts and host types", []string{"value"}},
		{"domain_count", []string{"value"}, "number of domains, dynamic ones included (MongooseIM 5.0+)", []string{"value"}},
		{"module_with_opt", []string{"module", "backend", "online_backend", "api_version"},
			"one per host type and MongooseIM (or ejabberd) module: the module's name and backends", nil},
		{"custom_module_count", []string{"value"}, "number of loaded modules that are not the server's own (never named)", []string{"value"}},
		{"cluster", []string{"uptime", "version", "component", "node_number", "config_type"},
			"node uptime (DDDD-HH:MM:SS), server version, connected external components, cluster size, config format",
			[]string{"component", "node_number"}},
		{"http_api", handlerNames(), "enabled HTTP handlers from a fixed list", nil},
		{"transport_mechanism", append([]string{"tcp"}, transportNames()...), "enabled transports", nil},
		{"tls_option", []string{"mode", "module"}, "TLS mode and library of the c2s listeners (MongooseIM before 6.4)", nil},
		{"outgoing_pool", []string{"value"}, "type of each outgoing connection pool (rdbms, http, redis...)", nil},
		{"xmpp_stanza_count", []string{"stanza_type", "total", "increment"},
			"messages, IQs and presences sent and received: total and increase since the previous report",
			[]string{"total", "increment"}},
	}
}

// ejabberd's handlers and transports, see ejabberdGatherSource.
var (
	ejabberdAPIs       = []string{"mod_http_api", "ejabberd_xmlrpc", "ejabberd_web_admin", "mod_bosh", "ejabberd_http_ws", "mod_http_upload", "mod_mqtt_ws", "mod_conversejs"}
	ejabberdTransports = []string{"mod_bosh", "ejabberd_http_ws"}
)

// generations whose whitelists differ.
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

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
