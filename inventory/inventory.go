// Package inventory says what each node of a cluster runs, from its
// report (version, known modules and their backends, transports, HTTP
// handlers, counts), and where the nodes of one cluster differ (drift).
//
// It only reads what a report already holds: module names are those of
// the known modules (custom ones are only counted), handler and transport
// names those of the collector's fixed lists.
package inventory

import (
	"cmp"
	"slices"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/facts"
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
	// Counts and Names are what the events whose -metric declares a
	// dimension state (contract.Summary's), every one of them: hosts,
	// http_api, pool, and any metric declared later.
	Counts map[string]int64
	Names  map[string][]string
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

// Of reads a node's report (its events, through contract.Summarize: what
// the catalog's rules refuse, it does not hold).
func Of(r metrics.NodeReport) Node {
	inv := Node{Node: r.Node, Server: r.Server, Version: r.Version, OTP: r.OTP}
	s := contract.Summarize(r.Events)
	for _, m := range s.Modules {
		inv.Modules = append(inv.Modules, Module{Module: m.Module, Backend: orNone(m.Backend), OnlineBackend: orNone(m.OnlineBackend)})
	}
	slices.SortFunc(inv.Modules, func(a, b Module) int {
		return cmp.Or(cmp.Compare(a.Module, b.Module), cmp.Compare(a.Backend, b.Backend), cmp.Compare(a.OnlineBackend, b.OnlineBackend))
	})
	inv.Modules = slices.Compact(inv.Modules) // a backend absent and one named none are one
	inv.Counts, inv.Names = s.Counts, s.Names
	inv.Transports = s.Names[facts.Transport]
	inv.HTTPAPIs = s.Names[facts.HTTPAPI]
	inv.Hosts = count(s, facts.Hosts)
	inv.Domains = count(s, facts.Domains)
	inv.CustomModules = count(s, facts.CustomModules)
	for _, c := range s.Clusters {
		inv.Components, inv.ClusterSize = c.Components, c.NodeNumber
	}
	for _, st := range s.Stanzas {
		i := slices.IndexFunc(inv.Stanzas, func(x Stanzas) bool { return x.Type == st.Type })
		if i < 0 {
			inv.Stanzas = append(inv.Stanzas, Stanzas{Type: st.Type, Total: st.Total})
			continue
		}
		inv.Stanzas[i].Total = st.Total
	}
	return inv
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// count is the summary's count of a dimension, nil when it has none.
func count(s contract.Summary, dimension string) *int64 {
	n, ok := s.Counts[dimension]
	if !ok {
		return nil
	}
	return &n
}
