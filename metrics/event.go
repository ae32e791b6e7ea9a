// Package metrics decides what a report contains: the events of MongooseIM's
// system metrics service, gathered from each cluster node over RPC.
package metrics

import "github.com/mim-metrics/mim-metrics/contract"

// Server names the software a node runs.
type Server string

// Servers the collector recognises.
const (
	MongooseIM Server = "mongooseim"
	Ejabberd   Server = "ejabberd"
)

// NodeReport is one node's report for one cycle.
type NodeReport struct {
	// Node is the Erlang node name. It is used locally (logs, preview, the
	// report file) and never sent to an analytics destination.
	Node string
	// Server is what the node runs; empty when the node could not be reached.
	Server Server
	// Version is the server's version string, empty when unknown.
	Version string
	// OTP is the node's Erlang/OTP release ("25"), empty when unknown.
	OTP string
	// BuiltinService is true when MongooseIM's own
	// service_mongoose_system_metrics process runs on the node.
	BuiltinService bool
	// Events holds the report, in MongooseIM's order.
	Events []contract.Event
	// Err is set when the node could not be collected at all; Events is then empty.
	Err error
	// Down is set when the node is a member the cluster records but that
	// is not running (Err is then a *node.NotRunningError).
	Down bool
}
