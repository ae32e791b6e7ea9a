package metrics

import (
	"time"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/etf"
	"github.com/mim-metrics/mim-metrics/node"
)

// The gathers answer the members the node records too: with package
// node's module, which lists the members.
var (
	probeFiles    = []string{contract.ErlModule("mim_metrics_probe")}
	mimFiles      = []string{contract.ErlModule("mim_metrics_probe"), contract.ErlModule("mim_metrics_gather"), contract.ErlModule("mim_metrics_mongooseim"), node.MembersModule()}
	ejabberdFiles = []string{contract.ErlModule("mim_metrics_probe"), contract.ErlModule("mim_metrics_gather"), contract.ErlModule("mim_metrics_ejabberd"), node.MembersModule()}
)

// probeMain is what a probe evaluates.
const probeMain = "mim_metrics_probe:probe()."

// Program is one evaluation of Erlang on a node: module sources, the
// expressions to evaluate, which may call the modules' functions, and the
// variables they see.
type Program struct {
	Files []string
	Main  string
	Vars  map[string]any
}

// GatherProgram is the gather of a node of flavor f, with fieldTimeout as
// each field's time limit. It answers a map from field name to {ok, V} |
// {error, _}, or {stale, ProbeAnswer} when the node no longer runs the
// version f was probed for. (The benchmark loads its modules into a
// fixture node, compiled, as its in-node baseline.)
func GatherProgram(f Flavor, fieldTimeout time.Duration) Program {
	files, main := mimFiles, "mim_metrics_mongooseim:gather(Request)."
	if f.Server == Ejabberd {
		files, main = ejabberdFiles, "mim_metrics_ejabberd:gather(Request)."
	}
	return Program{Files: files, Main: main, Vars: map[string]any{"Request": gatherRequest(f, fieldTimeout)}}
}

// gatherRequest is what the gather knows of the node (see the Erlang
// modules' doc): its version, generation and features, the fields to
// gather and their time limit, and the whitelists.
func gatherRequest(f Flavor, fieldTimeout time.Duration) etf.Map {
	features := etf.Map{}
	for _, name := range sortedKeys(f.has) {
		features = append(features, etf.MapPair{Key: etf.Atom(name), Value: f.has[name]})
	}
	quick, slow := gatheredFields(f)
	apis, transports := f.apiWhitelist(), f.transportHandlers()
	if f.Server == Ejabberd {
		apis, transports = contract.EjabberdHTTPHandlers, contract.EjabberdTransports
	}
	return etf.Map{
		{Key: etf.Atom("version"), Value: f.Version},
		{Key: etf.Atom("gen"), Value: etf.Tuple{f.Gen[0], f.Gen[1], f.Gen[2]}},
		{Key: etf.Atom("features"), Value: features},
		{Key: etf.Atom("quick"), Value: atoms(quick...)},
		{Key: etf.Atom("slow"), Value: atoms(slow...)},
		{Key: etf.Atom("timeout"), Value: int(fieldTimeout / time.Millisecond)},
		{Key: etf.Atom("api_whitelist"), Value: atoms(apis...)},
		{Key: etf.Atom("transport_handlers"), Value: atoms(transports...)},
	}
}

func atoms(names ...string) etf.List {
	out := make(etf.List, len(names))
	for i, n := range names {
		out[i] = etf.Atom(n)
	}
	return out
}
