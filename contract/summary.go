package contract

import (
	"cmp"
	"slices"
)

// Summary is what one node's report says, its events read once by the
// catalog's rules: Summarize is the only code that reads an event's params
// by name. The receiver's facts (package facts) and the sidecar's
// inventory (package inventory) both start from it, so a value one of them
// accepts is one the receiver's validation (Check) accepts.
type Summary struct {
	// Clusters are the cluster events (a batch of a cluster mid-upgrade
	// can hold one per node and version), in report order.
	Clusters []ClusterEvent
	// Modules are the known modules with their backends, sorted and
	// distinct (custom modules are only counted, never named).
	Modules []Module
	// TLS are the listeners' TLS options, sorted and distinct.
	TLS []TLS
	// Stanzas are the stanza counts, one per event, in report order.
	Stanzas []Stanzas
	// Counts are the numbers stated by the events whose -metric declares a
	// dimension and a number (host_count: hosts...), by dimension; the
	// largest when a report states one twice.
	Counts map[string]int64
	// Names are the names listed by the events whose -metric declares a
	// dimension and names (http_api, outgoing_pool...), by dimension,
	// sorted and distinct.
	Names map[string][]string
	// Rejected are the events that break the catalog's rules, and why;
	// nothing of them is in the summary.
	Rejected []*Rejection
}

// ClusterEvent is one cluster event: the node's server version, config
// format ("" when absent), cluster size and connected components (nil
// when absent).
type ClusterEvent struct {
	Version, ConfigType    string
	NodeNumber, Components *int64
}

// Module is a known module with its backend and online backend ("" when
// it has none).
type Module struct {
	Module, Backend, OnlineBackend string
}

// TLS is one listener's TLS mode and library ("none" when absent).
type TLS struct {
	Mode, Module string
}

// Stanzas is one stanza type's count: the total since the node started
// and the increment since the previous report.
type Stanzas struct {
	Type             string
	Total, Increment int64
}

// Summarize reads a node's events (as the sidecar makes them, or as Check
// returned them). An event Check would refuse is left out, with its
// rejection in Rejected; so are events and params no rule reads.
func Summarize(events []Event) Summary {
	s := Summary{Counts: map[string]int64{}, Names: map[string][]string{}}
	for _, e := range events {
		checked, rej := Check(e.Name, e.Params, false)
		if rej != nil {
			s.Rejected = append(s.Rejected, rej)
			continue
		}
		s.read(checked)
	}
	slices.SortFunc(s.Modules, func(a, b Module) int {
		return cmp.Or(cmp.Compare(a.Module, b.Module), cmp.Compare(a.Backend, b.Backend), cmp.Compare(a.OnlineBackend, b.OnlineBackend))
	})
	s.Modules = slices.Compact(s.Modules)
	slices.SortFunc(s.TLS, func(a, b TLS) int {
		return cmp.Or(cmp.Compare(a.Mode, b.Mode), cmp.Compare(a.Module, b.Module))
	})
	s.TLS = slices.Compact(s.TLS)
	for d, names := range s.Names {
		slices.Sort(names)
		s.Names[d] = slices.Compact(names)
	}
	return s
}

// read adds one checked event (params typed: int64 numbers, strings).
func (s *Summary) read(e Event) {
	p := e.Params
	if d, ok := dimensions[e.Name]; ok {
		s.readDimension(d, p)
		return
	}
	switch e.Name {
	case ModuleWithOpt:
		if module, ok := Text(p["module"]); ok {
			s.Modules = append(s.Modules, Module{Module: module, Backend: textOr(p["backend"], ""), OnlineBackend: textOr(p["online_backend"], "")})
		}
	case Cluster:
		s.Clusters = append(s.Clusters, ClusterEvent{Version: textOr(p["version"], ""), ConfigType: textOr(p["config_type"], ""),
			NodeNumber: number(p["node_number"]), Components: number(p["component"])})
	case TLSOption:
		mode, okMode := Text(p["mode"])
		module, okModule := Text(p["module"])
		if okMode || okModule {
			s.TLS = append(s.TLS, TLS{Mode: textOr(mode, "none"), Module: textOr(module, "none")})
		}
	case XMPPStanzaCount:
		if t, ok := Text(p["stanza_type"]); ok {
			total, _ := Int(p["total"])
			increment, _ := Int(p["increment"])
			s.Stanzas = append(s.Stanzas, Stanzas{Type: t, Total: total, Increment: increment})
		}
	}
}

// readDimension adds an event whose -metric declares a dimension: its
// number, its value, or its flags' names.
func (s *Summary) readDimension(d declaredDimension, p map[string]any) {
	switch {
	case d.flags:
		for name := range p {
			s.Names[d.name] = append(s.Names[d.name], name)
		}
	case d.number:
		if n, ok := Int(p["value"]); ok {
			if cur, seen := s.Counts[d.name]; !seen || n > cur {
				s.Counts[d.name] = n
			}
		}
	default:
		if v, ok := Text(p["value"]); ok {
			s.Names[d.name] = append(s.Names[d.name], v)
		}
	}
}

// declaredDimension is how an event that declares a dimension states it.
type declaredDimension struct {
	name   string
	flags  bool // the names are the params'
	number bool // the value param is a number
}

// dimensions are the catalog's events that declare a dimension, by event.
var dimensions = buildDimensions(catalog)

func buildDimensions(specs []EventSpec) map[string]declaredDimension {
	out := map[string]declaredDimension{}
	for _, s := range specs {
		if s.Dimension != "" {
			out[s.Name] = declaredDimension{name: s.Dimension, flags: s.Flags, number: slices.Contains(s.Numbers, "value")}
		}
	}
	return out
}

func textOr(v any, def string) string {
	if s, ok := Text(v); ok {
		return s
	}
	return def
}

// number is a number param's value, nil when there is none.
func number(v any) *int64 {
	if n, ok := Int(v); ok {
		return &n
	}
	return nil
}
