package inventory

import (
	"fmt"
	"sort"
	"strings"

	"github.com/mim-metrics/mim-metrics/metrics"
)

// Kind is a kind of drift: something the nodes of one cluster should agree
// on. What legitimately differs between nodes (uptime, stanza counts,
// components connected to one node, the cluster size each node sees) is
// never drift.
type Kind string

// Kinds of drift.
const (
	// DriftVersion: the nodes run different servers or versions (a rolling
	// upgrade half way).
	DriftVersion Kind = "version"
	// DriftModule: a known module is enabled on some nodes only.
	DriftModule Kind = "module"
	// DriftBackend: a module's backends differ between the nodes that have it.
	DriftBackend Kind = "module_backend"
	// DriftTransport: a client transport is enabled on some nodes only.
	DriftTransport Kind = "transport"
	// DriftHTTPAPI: an HTTP handler is enabled on some nodes only.
	DriftHTTPAPI Kind = "http_api"
)

// Kinds lists every kind of drift, in the order differences are reported.
func Kinds() []Kind {
	return []Kind{DriftVersion, DriftModule, DriftBackend, DriftTransport, DriftHTTPAPI}
}

// Difference is one thing the nodes disagree on: the nodes grouped by what
// they have.
type Difference struct {
	Kind Kind `json:"kind"`
	// Subject is the module, transport or handler; empty for Version.
	Subject string `json:"subject,omitempty"`
	// Groups are the nodes by value, the largest group first.
	Groups []Group `json:"groups"`
}

// Group is the nodes that have one value.
type Group struct {
	Value string   `json:"value"`
	Nodes []string `json:"nodes"` // sorted
}

// Values of the present/absent differences.
const (
	present = "enabled"
	absent  = "not enabled"
)

// String says it in one line, e.g. "module mod_ping: enabled on a@h, b@h;
// not enabled on c@h".
func (d Difference) String() string {
	var b strings.Builder
	b.WriteString(string(d.Kind))
	if d.Subject != "" {
		b.WriteString(" " + d.Subject)
	}
	b.WriteString(": ")
	for i, g := range d.Groups {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s on %s", g.Value, strings.Join(g.Nodes, ", "))
	}
	return b.String()
}

// Drift compares the nodes that were collected (Err nil) and returns where
// they differ, by kind then subject; nil when they agree or fewer than two
// were collected.
func Drift(reports []metrics.NodeReport) []Difference {
	var nodes []Node
	for _, r := range reports {
		if r.Err == nil {
			nodes = append(nodes, Of(r))
		}
	}
	if len(nodes) < 2 {
		return nil
	}
	var out []Difference
	out = appendIfDiffers(out, DriftVersion, "", nodes, func(n Node) (string, bool) {
		return strings.TrimSpace(string(n.Server) + " " + n.Version), true
	})
	modules := map[string]bool{}
	transports := map[string]bool{}
	apis := map[string]bool{}
	for _, n := range nodes {
		for _, m := range n.Modules {
			modules[m.Module] = true
		}
		for _, t := range n.Transports {
			transports[t] = true
		}
		for _, h := range n.HTTPAPIs {
			apis[h] = true
		}
	}
	for _, mod := range sortedSet(modules) {
		out = appendIfDiffers(out, DriftModule, mod, nodes, func(n Node) (string, bool) {
			return presence(n.backends(mod) != ""), true
		})
	}
	for _, mod := range sortedSet(modules) {
		out = appendIfDiffers(out, DriftBackend, mod, nodes, func(n Node) (string, bool) {
			b := n.backends(mod)
			return b, b != ""
		})
	}
	for _, t := range sortedSet(transports) {
		out = appendIfDiffers(out, DriftTransport, t, nodes, func(n Node) (string, bool) {
			return presence(contains(n.Transports, t)), true
		})
	}
	for _, h := range sortedSet(apis) {
		out = appendIfDiffers(out, DriftHTTPAPI, h, nodes, func(n Node) (string, bool) {
			return presence(contains(n.HTTPAPIs, h)), true
		})
	}
	return out
}

// appendIfDiffers groups the nodes by value (nodes for which value says
// false take no part) and appends a Difference when there are two groups
// or more.
func appendIfDiffers(out []Difference, kind Kind, subject string, nodes []Node, value func(Node) (string, bool)) []Difference {
	byValue := map[string][]string{}
	for _, n := range nodes {
		if v, ok := value(n); ok {
			byValue[v] = append(byValue[v], n.Node)
		}
	}
	if len(byValue) < 2 {
		return out
	}
	d := Difference{Kind: kind, Subject: subject}
	for v, ns := range byValue {
		sort.Strings(ns)
		d.Groups = append(d.Groups, Group{Value: v, Nodes: ns})
	}
	sort.Slice(d.Groups, func(i, j int) bool {
		a, b := d.Groups[i], d.Groups[j]
		if len(a.Nodes) != len(b.Nodes) {
			return len(a.Nodes) > len(b.Nodes)
		}
		return a.Value < b.Value
	})
	return append(out, d)
}

// backends describes a module's backends on the node ("" when the node
// does not have it): its distinct backends, with the online backend where
// there is one, e.g. "mnesia (online cets), rdbms". A module without
// backends is "none".
func (n Node) backends(mod string) string {
	var parts []string
	for _, m := range n.Modules {
		if m.Module != mod {
			continue
		}
		p := m.Backend
		if m.OnlineBackend != "none" {
			p += " (online " + m.OnlineBackend + ")"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ") // Modules is sorted and distinct
}

func presence(ok bool) string {
	if ok {
		return present
	}
	return absent
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
