package contract

// Event is one report entry in the shape of MongooseIM 6.1+ (a GA4 event):
// a name and a flat map of params. Param values are strings or int64.
// Params are read-only: events with equal params may share one map (a
// cluster with thousands of hosts has thousands of equal module events).
type Event struct {
	Name   string         `json:"name"`
	Params map[string]any `json:"params"`
}

// The events of the catalog (see Catalog), named once for the Go code
// that reads them.
const (
	HostCount          = "host_count"
	DomainCount        = "domain_count"
	ModuleWithOpt      = "module_with_opt"
	CustomModuleCount  = "custom_module_count"
	Cluster            = "cluster"
	HTTPAPI            = "http_api"
	TransportMechanism = "transport_mechanism"
	TLSOption          = "tls_option"
	OutgoingPool       = "outgoing_pool"
	XMPPStanzaCount    = "xmpp_stanza_count"
)
