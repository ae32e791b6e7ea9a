package observe

import (
	"strings"
	"unicode/utf8"

	"github.com/mim-metrics/mim-metrics/facts"
	"github.com/prometheus/client_golang/prometheus"
)

// The inventory's metrics, made at every scrape from the last collection:
// a node that left the cluster leaves no series behind.
var (
	descNodes = prometheus.NewDesc(namespace+"_nodes",
		"Cluster members in the last collection, by state: up (collected) or down (not collected: recorded by the cluster but not running, or not answering).",
		[]string{"state"}, nil)
	descNodeUp = prometheus.NewDesc(namespace+"_node_up",
		"1 when the node was collected in the last collection, 0 when it could not be (down, or not answering).",
		[]string{"node"}, nil)
	descRoundTrips = prometheus.NewDesc(namespace+"_rex_round_trips_total",
		"RPC round trips (calls to the node's rex) made to the node since the sidecar started.",
		[]string{"node"}, nil)
	descNodeInfo = prometheus.NewDesc(namespace+"_node_info",
		"What the node runs: server (mongooseim or ejabberd), its version and the Erlang/OTP release; always 1.",
		[]string{"node", "server", "version", "otp_release"}, nil)
	descModuleInfo = prometheus.NewDesc(namespace+"_module_info",
		"A known module enabled on the node, with its backend and online backend (none when it has none); always 1. Custom modules are never named (see mim_metrics_custom_modules).",
		[]string{"node", "module", "backend", "online_backend"}, nil)
	descTransportInfo = prometheus.NewDesc(namespace+"_transport_info",
		"A client transport enabled on the node (tcp, BOSH, WebSocket handlers); always 1.",
		[]string{"node", "transport"}, nil)
	descHTTPAPIInfo = prometheus.NewDesc(namespace+"_http_api_info",
		"An HTTP handler of the fixed list enabled on the node; always 1.",
		[]string{"node", "handler"}, nil)
	descHosts = prometheus.NewDesc(namespace+"_hosts",
		"Static hosts and host types configured on the node.",
		[]string{"node"}, nil)
	descDomains = prometheus.NewDesc(namespace+"_domains",
		"Domains served by the node, dynamic ones included (MongooseIM 5.0+).",
		[]string{"node"}, nil)
	descCustomModules = prometheus.NewDesc(namespace+"_custom_modules",
		"Loaded modules that are not the server's own (never named).",
		[]string{"node"}, nil)
	descComponents = prometheus.NewDesc(namespace+"_components",
		"External components connected to the node.",
		[]string{"node"}, nil)
	descClusterSize = prometheus.NewDesc(namespace+"_cluster_size",
		"Cluster members as the node sees them (its visible connected nodes plus itself).",
		[]string{"node"}, nil)
	descStanzas = prometheus.NewDesc(namespace+"_stanzas_total",
		"Stanzas the node sent and received since it started, by type (xmppMessageSent, xmppIqReceived...).",
		[]string{"node", "type"}, nil)
	descDeclaredCount = prometheus.NewDesc(namespace+"_declared_count",
		"A count the node's report states, by the dimension its -metric declares (contract/erl), for those without a series of their own above.",
		[]string{"node", "dimension"}, nil)
	descDeclaredInfo = prometheus.NewDesc(namespace+"_declared_info",
		"A name the node's report lists (an outgoing pool type...), by the dimension its -metric declares (contract/erl), for those without a series of their own above; always 1.",
		[]string{"node", "dimension", "name"}, nil)
	descBuiltin = prometheus.NewDesc(namespace+"_builtin_service_running",
		"1 when MongooseIM's own service_mongoose_system_metrics runs on the node, so it may report too.",
		[]string{"node"}, nil)
)

var inventoryDescs = []*prometheus.Desc{descNodes, descNodeUp, descRoundTrips, descNodeInfo, descModuleInfo,
	descTransportInfo, descHTTPAPIInfo, descHosts, descDomains, descCustomModules, descComponents,
	descClusterSize, descStanzas, descBuiltin, descDeclaredCount, descDeclaredInfo}

// ownSeries are the declared dimensions exported by a series of their own.
var ownSeries = map[string]bool{facts.Hosts: true, facts.Domains: true, facts.CustomModules: true,
	facts.Transport: true, facts.HTTPAPI: true}

// inventoryCollector is the collector of the cluster's inventory.
type inventoryCollector struct{ e *Exporter }

func (inventoryCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range inventoryDescs {
		ch <- d
	}
}

func (inv inventoryCollector) Collect(ch chan<- prometheus.Metric) {
	up, down := 0, 0
	for _, n := range inv.e.lastNodes() {
		if n.up {
			up++
			send(ch, descNodeUp, gaugeValue, 1, n.name)
			nodeInventory(ch, n)
		} else {
			down++
			send(ch, descNodeUp, gaugeValue, 0, n.name)
		}
		if inv.e.opts.RoundTrips != nil {
			send(ch, descRoundTrips, counterValue, float64(inv.e.opts.RoundTrips(n.name)), n.name)
		}
	}
	send(ch, descNodes, gaugeValue, float64(up), "up")
	send(ch, descNodes, gaugeValue, float64(down), "down")
}

const (
	gaugeValue   = prometheus.GaugeValue
	counterValue = prometheus.CounterValue
)

// maxLabelLen bounds a label value (a version string, say, from a node
// that answers oddly).
const maxLabelLen = 128

// maxModuleSeries bounds the module series of one node.
const maxModuleSeries = 1000

// send sends one series; label values are made valid UTF-8 and bounded
// first, so that no answer of a node can break a scrape.
func send(ch chan<- prometheus.Metric, d *prometheus.Desc, typ prometheus.ValueType, v float64, labels ...string) {
	for i, l := range labels {
		labels[i] = labelValue(l)
	}
	if m, err := prometheus.NewConstMetric(d, typ, v, labels...); err == nil {
		ch <- m
	}
}

// labelValue is s as valid UTF-8, at most maxLabelLen bytes.
func labelValue(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= maxLabelLen {
		return s
	}
	cut := maxLabelLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// nodeInventory sends one collected node's series.
func nodeInventory(ch chan<- prometheus.Metric, ns nodeState) {
	n, inv := ns.name, ns.inv
	send(ch, descNodeInfo, gaugeValue, 1, n, string(inv.Server), inv.Version, inv.OTP)
	builtin := 0.0
	if ns.builtin {
		builtin = 1
	}
	send(ch, descBuiltin, gaugeValue, builtin, n)
	for i, m := range inv.Modules {
		if i == maxModuleSeries {
			break
		}
		send(ch, descModuleInfo, gaugeValue, 1, n, m.Module, m.Backend, m.OnlineBackend)
	}
	for _, t := range inv.Transports {
		send(ch, descTransportInfo, gaugeValue, 1, n, t)
	}
	for _, h := range inv.HTTPAPIs {
		send(ch, descHTTPAPIInfo, gaugeValue, 1, n, h)
	}
	for _, c := range []struct {
		d *prometheus.Desc
		v *int64
	}{{descHosts, inv.Hosts}, {descDomains, inv.Domains}, {descCustomModules, inv.CustomModules},
		{descComponents, inv.Components}, {descClusterSize, inv.ClusterSize}} {
		if c.v != nil {
			send(ch, c.d, gaugeValue, float64(*c.v), n)
		}
	}
	for _, s := range inv.Stanzas {
		send(ch, descStanzas, counterValue, float64(s.Total), n, s.Type)
	}
	for dimension, v := range inv.Counts {
		if !ownSeries[dimension] {
			send(ch, descDeclaredCount, gaugeValue, float64(v), n, dimension)
		}
	}
	for dimension, names := range inv.Names {
		if !ownSeries[dimension] {
			for _, name := range names {
				send(ch, descDeclaredInfo, gaugeValue, 1, n, dimension, name)
			}
		}
	}
}
