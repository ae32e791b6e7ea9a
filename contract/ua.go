package contract

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Universal Analytics Measurement Protocol limits (developers.google.com/
// analytics/devguides/collection/protocol/v1/devguide, "Batching hits").
const (
	// MaxUAHits is the most hits one /batch request may carry.
	MaxUAHits = 20
	// MaxUABatchBytes bounds the total size of a /batch body.
	MaxUABatchBytes = 16 * 1024
	// MaxUAHitBytes bounds one hit.
	MaxUAHitBytes = 8 * 1024
)

// UAHit is one UA event hit: category, action, label (MongooseIM up to
// 6.0: report_name, key, value).
type UAHit struct{ Category, Action, Label string }

// The UA categories and actions of the events MongooseIM up to 6.0 sent.
// Each of these events has its own mapping; any other event of the
// catalog goes as hits of its own name (see UAHits).
const (
	uaHosts         = "hosts"
	uaDomains       = "domains"
	uaCustomModules = "custom_modules"
	uaPools         = "outgoing_pools"
	uaCount         = "count"
	uaType          = "type"
	uaNone          = "none"
)

// uaClusterKeys are MongooseIM's pre-6.1 keys of the cluster params, in
// the order MongooseIM and the sidecar send them.
var uaClusterKeys = []struct{ param, key string }{
	{"uptime", "uptime"},
	{"node_number", "number_of_nodes"},
	{"version", "mim_version"},
	{"component", "number_of_components"},
	{"config_type", "config_type"},
}

// uaStanzaTypes are the categories of stanza count hits.
var uaStanzaTypes = map[string]bool{
	"xmppMessageSent": true, "xmppMessageReceived": true, "xmppIqSent": true,
	"xmppIqReceived": true, "xmppPresenceSent": true, "xmppPresenceReceived": true,
}

// uaCounts are the events of a single count and their categories.
var uaCounts = map[string]string{HostCount: uaHosts, DomainCount: uaDomains, CustomModuleCount: uaCustomModules}

// UAHits maps a MongooseIM 6.1+ event to the hits MongooseIM up to 6.0
// sent for the same fact (ec = report_name, ea = key, el = value); an
// event MongooseIM never sent over UA goes as one hit per param (sorted),
// category its name, or a single {name, none, none} without params.
// EventsFromUAHits reads them back.
func UAHits(e Event) []UAHit {
	p := e.Params
	one := func(ec, ea string, v any) []UAHit { return []UAHit{{ec, ea, uaValue(v)}} }
	perParam := func(ec string, skip string) []UAHit {
		var hits []UAHit
		for _, k := range sortedKeys(p) {
			if k != skip {
				hits = append(hits, UAHit{ec, k, uaValue(p[k])})
			}
		}
		if len(hits) == 0 {
			hits = []UAHit{{ec, uaNone, uaNone}}
		}
		return hits
	}
	if ec, ok := uaCounts[e.Name]; ok {
		return one(ec, uaCount, p["value"])
	}
	switch e.Name {
	case ModuleWithOpt:
		return perParam(uaValue(p["module"]), "module")
	case Cluster:
		var hits []UAHit
		known := map[string]bool{}
		for _, o := range uaClusterKeys {
			known[o.param] = true
			if v, ok := p[o.param]; ok {
				hits = append(hits, UAHit{Cluster, o.key, uaValue(v)})
			}
		}
		for _, k := range sortedKeys(p) {
			if !known[k] {
				hits = append(hits, UAHit{Cluster, k, uaValue(p[k])})
			}
		}
		return hits
	case HTTPAPI, TransportMechanism:
		var hits []UAHit
		for _, k := range sortedKeys(p) {
			hits = append(hits, UAHit{e.Name, k, uaValue(p[k])})
		}
		return hits
	case TLSOption:
		return one(TLSOption, uaValue(p["mode"]), p["module"])
	case OutgoingPool:
		return one(uaPools, uaType, p["value"])
	case XMPPStanzaCount:
		return one(uaValue(p["stanza_type"]), uaValue(p["total"]), p["increment"])
	}
	return perParam(e.Name, "")
}

// uaValue renders a param value for a UA hit. Unlike MongooseIM (io_lib
// "~p"), strings carry no quotes; the hit encoding escapes them instead.
func uaValue(v any) string {
	switch v := v.(type) {
	case nil:
		return uaNone
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	default:
		return fmt.Sprint(v)
	}
}

// EncodeUAHit builds one hit line, URL-encoded, in the conventional order
// v, tid, t, cid, ec, ea, el.
func EncodeUAHit(tid, cid string, h UAHit) string {
	var b strings.Builder
	for i, kv := range [][2]string{{"v", "1"}, {"tid", tid}, {"t", "event"}, {"cid", cid}, {"ec", h.Category}, {"ea", h.Action}, {"el", h.Label}} {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(kv[0]))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(kv[1]))
	}
	return b.String()
}

// UAEvent is an event read back from hits, not yet checked (Check with
// text true): its params are the hits' text.
type UAEvent struct {
	// First is the index of its first hit.
	First  int
	Name   string
	Params map[string]any
	group  string // the hits' category: hits of one event share it
	last   string // the last param added
}

// EventsFromUAHits groups hits into events: the inverse of UAHits, and
// what MongooseIM 3.6-6.0 sent. Hits of one event are consecutive and
// share a category; the sidecar sends an event's params in sorted order
// (the cluster's in MongooseIM's order), so a param that does not come
// after the previous one starts a new event (two module events of one
// module, one per host type). A category that is neither one of
// MongooseIM's up to 6.0 nor an event of the catalog is a module's name.
func EventsFromUAHits(hits []UAHit) []UAEvent {
	var out []UAEvent
	single := func(i int, name string, params map[string]any) {
		out = append(out, UAEvent{First: i, Name: name, Params: params})
	}
	grouped := func(i int, h UAHit, name, param string, after func(prev, next string) bool) {
		if n := len(out); n > 0 {
			cur := &out[n-1]
			if cur.group == h.Category && cur.Name == name && cur.Params[param] == nil && after(cur.last, param) {
				cur.Params[param], cur.last = h.Label, param
				return
			}
		}
		p := map[string]any{param: h.Label}
		if name == ModuleWithOpt {
			p["module"] = h.Category
		}
		out = append(out, UAEvent{First: i, Name: name, group: h.Category, Params: p, last: param})
	}
	sorted := func(prev, next string) bool { return prev < next }
	clusterOrder := func(prev, next string) bool { return uaClusterOrder(prev) < uaClusterOrder(next) }
	for i, h := range hits {
		switch {
		case countEventOf(h.Category) != "":
			param := "value"
			if h.Action != uaCount {
				param = h.Action // unknown: rejected by Check
			}
			single(i, countEventOf(h.Category), map[string]any{param: h.Label})
		case h.Category == Cluster:
			param := h.Action
			for _, k := range uaClusterKeys {
				if k.key == h.Action {
					param = k.param
				}
			}
			grouped(i, h, Cluster, param, clusterOrder)
		case h.Category == HTTPAPI || h.Category == TransportMechanism:
			grouped(i, h, h.Category, h.Action, sorted)
		case h.Category == TLSOption:
			single(i, TLSOption, map[string]any{"mode": h.Action, "module": h.Label})
		case h.Category == uaPools:
			param := "value"
			if h.Action != uaType {
				param = h.Action
			}
			single(i, OutgoingPool, map[string]any{param: h.Label})
		case uaStanzaTypes[h.Category]:
			single(i, XMPPStanzaCount, map[string]any{"stanza_type": h.Category, "total": h.Action, "increment": h.Label})
		case rules[h.Category].params != nil && h.Category != ModuleWithOpt:
			// An event of the catalog MongooseIM never sent over UA.
			if h.Action == uaNone && h.Label == uaNone {
				single(i, h.Category, map[string]any{})
				continue
			}
			grouped(i, h, h.Category, h.Action, sorted)
		case h.Action == uaNone && h.Label == uaNone:
			single(i, ModuleWithOpt, map[string]any{"module": h.Category})
		default:
			grouped(i, h, ModuleWithOpt, h.Action, sorted)
		}
	}
	return out
}

// countEventOf is the event of a count category, or "".
func countEventOf(category string) string {
	for name, ec := range uaCounts {
		if ec == category {
			return name
		}
	}
	return ""
}

func uaClusterOrder(param string) int {
	for i, k := range uaClusterKeys {
		if k.param == param {
			return i + 1
		}
	}
	return 100
}
