package contract

import (
	"embed"
	"fmt"
)

// The gathering is Erlang: the modules in erl/, evaluated on each node by
// the sidecar (package metrics), nothing loaded. mim_metrics_probe asks a
// node what it runs; mim_metrics_mongooseim and mim_metrics_ejabberd
// gather every field of a report, each field a clause of their metric/2,
// and declare the metrics (-metric attributes, read by declare.go);
// mim_metrics_gather computes the fields, each in a process of its own
// under one time limit.
//
//go:embed erl/*.erl
var erlFS embed.FS

// ErlModule returns the source of one module of erl/ (mim_metrics_probe,
// mim_metrics_gather, mim_metrics_mongooseim, mim_metrics_ejabberd).
func ErlModule(name string) string {
	b, err := erlFS.ReadFile("erl/" + name + ".erl")
	if err != nil {
		panic(fmt.Sprintf("contract: the embedded Erlang module %s is missing: %v", name, err))
	}
	return string(b)
}
