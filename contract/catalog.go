package contract

// Declaration is one -metric attribute of the gathering's modules
// (erl/mim_metrics_mongooseim.erl, erl/mim_metrics_ejabberd.erl): the
// catalog entry of the event a report carries, the fields the gather
// computes for it on a node (each a clause of that module's metric/2),
// and how the sidecar makes events of the answer. See
// docs/adding-a-metric.md.
type Declaration struct {
	// EventSpec is the catalog entry; without a Name, the fields are ones
	// the sidecar uses itself and never reports.
	EventSpec
	Fields []Field
	// Builder names how the sidecar makes the events of the answer (the
	// events key: count, each_value, flags, modules...; see
	// metrics/declared.go).
	Builder string
	// ParamsFrom names the whitelist the params are (handlers,
	// transports), if they are one.
	ParamsFrom string
}

// Field is one field of the gather.
type Field struct {
	Name string // the clause of metric/2 that computes it
	// Quick fields make no call that may block (BIFs, reads of the
	// configuration): one process computes them all; the others get a
	// process each (see mim_metrics_gather:fields/4).
	Quick bool
	// Feature is a name of mim_metrics_probe:features/0 the node must
	// report ("" for any); Since the oldest MongooseIM generation asked.
	Feature string
	Since   [3]int
}

// EventSpec describes one event a report can contain.
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
	// can report in one period (declared in contract/erl/*.erl).
	Ranges map[string]Range
	// Atoms are the params whose values are Erlang atoms (module and
	// backend names, modes).
	Atoms []string
	// Flags: the event has a param for each item enabled (of Params), its
	// value "enabled".
	Flags bool
	// Dimension is the receiver's dimension the event states by itself
	// (its number, its value or its flags' names); empty for the events
	// package facts reads by hand (module_with_opt, cluster...).
	Dimension string
}

// Range is the plausible values of a number param, Min to Max included.
type Range struct{ Min, Max int64 }

// Contains says whether n is in the range.
func (r Range) Contains(n int64) bool { return n >= r.Min && n <= r.Max }

// The declarations of each server's module, in the order of their events
// in a report; ejabberd's reuse MongooseIM's descriptions.
var mongooseIMDeclarations, ejabberdDeclarations = mustDeclare()

func mustDeclare() (mim, ejabberd []Declaration) {
	mim, err := declared("mim_metrics_mongooseim", nil)
	if err == nil {
		ejabberd, err = declared("mim_metrics_ejabberd", mim)
	}
	if err != nil {
		panic(err) // the embedded modules are checked by the tests
	}
	return mim, ejabberd
}

// MongooseIMDeclarations are the metrics of a MongooseIM node, in
// MongooseIM 6.1+'s event order.
func MongooseIMDeclarations() []Declaration { return mongooseIMDeclarations }

// EjabberdDeclarations are the metrics of an ejabberd node (checked
// against 23.01), with MongooseIM's events.
func EjabberdDeclarations() []Declaration { return ejabberdDeclarations }

// catalog is Catalog's answer, made once.
var catalog = buildCatalog(mongooseIMDeclarations, ejabberdDeclarations)

// Catalog lists every event and param a report can contain: nothing else
// is ever sent, and the receiver keeps nothing else. It is made of the
// declared metrics; the README's "What is sent" section is checked
// against it.
func Catalog() []EventSpec {
	out := make([]EventSpec, len(catalog))
	copy(out, catalog)
	return out
}

func buildCatalog(lists ...[]Declaration) []EventSpec {
	var out []EventSpec
	seen := map[string]bool{}
	for _, ds := range lists {
		for _, d := range ds {
			if d.Name == "" || seen[d.Name] {
				continue
			}
			seen[d.Name] = true
			s := d.EventSpec
			switch d.ParamsFrom {
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

// The whitelists of ejabberd: the HTTP handlers it reports by name, and
// those that count as transports.
var (
	EjabberdHTTPHandlers = []string{"mod_http_api", "ejabberd_xmlrpc", "ejabberd_web_admin", "mod_bosh", "ejabberd_http_ws", "mod_http_upload", "mod_mqtt_ws", "mod_conversejs"}
	EjabberdTransports   = []string{"mod_bosh", "ejabberd_http_ws"}
)

// HTTPHandlers is filter_unknown_api/1 of MongooseIM generation gen: the
// HTTP handlers MongooseIM reports by name.
func HTTPHandlers(gen [3]int) []string {
	switch {
	case atLeast(gen, 6, 6, 0):
		return []string{"mongoose_bosh_handler", "mongoose_graphql_handler", "mongoose_websocket_handler"}
	case atLeast(gen, 6, 0, 0):
		return []string{"mongoose_client_api", "mongoose_admin_api", "mod_bosh", "mod_websockets"}
	case atLeast(gen, 5, 1, 0):
		return []string{"mongoose_api", "mongoose_client_api", "mongoose_api_admin", "mongoose_api_client",
			"mongoose_domain_handler", "mod_bosh", "mod_websockets"}
	}
	return []string{"mongoose_api", "mongoose_client_api_rooms_messages", "mongoose_client_api_rooms_users",
		"mongoose_client_api_rooms_config", "mongoose_client_api_rooms", "mongoose_client_api_contacts",
		"mongoose_client_api_messages", "lasse_handler", "mongoose_api_admin", "mod_bosh", "mod_websockets", "mod_revproxy"}
}

// TransportHandlers are the HTTP handlers of MongooseIM generation gen
// that count as transports.
func TransportHandlers(gen [3]int) []string {
	if atLeast(gen, 6, 6, 0) {
		return []string{"mongoose_bosh_handler", "mongoose_websocket_handler"}
	}
	return []string{"mod_bosh", "mod_websockets"}
}

// atLeast reports whether generation g is major.minor.patch or newer.
func atLeast(g [3]int, major, minor, patch int) bool {
	if g[0] != major {
		return g[0] > major
	}
	if g[1] != minor {
		return g[1] > minor
	}
	return g[2] >= patch
}

// whitelistGens are generations whose whitelists differ.
var whitelistGens = [][3]int{{3, 6, 0}, {5, 1, 0}, {6, 0, 0}, {6, 6, 0}}

func handlerNames() []string {
	set := map[string]bool{}
	for _, g := range whitelistGens {
		for _, n := range HTTPHandlers(g) {
			set[n] = true
		}
	}
	for _, n := range EjabberdHTTPHandlers {
		set[n] = true
	}
	return sortedKeys(set)
}

func transportNames() []string {
	set := map[string]bool{}
	for _, g := range whitelistGens {
		for _, n := range TransportHandlers(g) {
			set[n] = true
		}
	}
	for _, n := range EjabberdTransports {
		set[n] = true
	}
	return sortedKeys(set)
}
