// Package inventory says what each node of a cluster runs, from its
// report (version, known modules and their backends, transports, HTTP
// handlers, counts), and where the nodes of one cluster differ (drift).
//
// It only reads what a report already holds: module names are those of
// the known modules (custom ones are only counted), handler and transport
// names those of the collector's fixed lists.
package inventory

import (
	"sort"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/metrics"
)

// Node is what one node's report says it runs, in a form easy to compare
// and to export.
type Node struct {
	// Node, Server, Version and OTP are the report's.
	Node         string
	Server       metrics.Server
	Version, OTP string
	Modules      []Module // sorted, distinct
	Transports   []string // sorted
	HTTPAPIs     []string // sorted
	// Counts; nil when the report does not have them.
	Hosts, Domains, CustomModules, Components, ClusterSize *int64
	Stanzas                                                []Stanzas
}

// Module is a known module with one of its backends (none when it has none).
type Module struct {
	Module, Backend, OnlineBackend string
}

// Stanzas is one stanza type's total.
type Stanzas struct {
	Type  string
	Total int64
}

// Of reads a node's report (its events).
func Of(r metrics.NodeReport) Node {
	inv := Node{Node: r.Node, Server: r.Server, Version: r.Version, OTP: r.OTP}
	mods := map[Module]bool{}
	stanzas := map[string]int{} // type -> index in inv.Stanzas
	transports, apis := map[string]bool{}, map[string]bool{}
	for _, e := range r.Events {
		p := e.Params
		switch e.Name {
		case contract.ModuleWithOpt:
			mod, ok := p["module"].(string)
			if !ok || mod == "" {
				continue
			}
			mods[Module{Module: mod, Backend: stringOr(p["backend"], "none"), OnlineBackend: stringOr(p["online_backend"], "none")}] = true
		case contract.TransportMechanism:
			for k := range p {
				transports[k] = true
			}
		case contract.HTTPAPI:
			for k := range p {
				apis[k] = true
			}
		case contract.HostCount:
			inv.Hosts = number(p["value"])
		case contract.DomainCount:
			inv.Domains = number(p["value"])
		case contract.CustomModuleCount:
			inv.CustomModules = number(p["value"])
		case contract.Cluster:
			inv.Components = number(p["component"])
			inv.ClusterSize = number(p["node_number"])
		case contract.XMPPStanzaCount:
			t, ok := p["stanza_type"].(string)
			total := number(p["total"])
			if !ok || t == "" || total == nil || *total < 0 {
				continue
			}
			if i, seen := stanzas[t]; seen {
				inv.Stanzas[i].Total = *total
				continue
			}
			stanzas[t] = len(inv.Stanzas)
			inv.Stanzas = append(inv.Stanzas, Stanzas{Type: t, Total: *total})
		}
	}
	for m := range mods {
		inv.Modules = append(inv.Modules, m)
	}
	sort.Slice(inv.Modules, func(i, j int) bool {
		a, b := inv.Modules[i], inv.Modules[j]
		if a.Module != b.Module {
			return a.Module < b.Module
		}
		if a.Backend != b.Backend {
			return a.Backend < b.Backend
		}
		return a.OnlineBackend < b.OnlineBackend
	})
	inv.Transports = sortedSet(transports)
	inv.HTTPAPIs = sortedSet(apis)
	return inv
}

func stringOr(v any, def string) string {
	if s, ok := v.(string); ok && s != "" {
		return s
	}
	return def
}

// number is a number param's value (contract.Int), nil when there is none.
func number(v any) *int64 {
	n, ok := contract.Int(v)
	if !ok {
		return nil
	}
	return &n
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
