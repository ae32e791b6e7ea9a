package receiver

import (
	"net/url"
	"strings"

	"github.com/mim-metrics/mim-metrics/contract"
)

// Universal Analytics Measurement Protocol limits, as the sidecar keeps to
// them (reporting/ua.go).
const (
	maxUAHits      = 20
	maxUABodyBytes = 16 * 1024
)

// uaRequest is a decoded /batch or /collect body: its tracking id and the
// events its hits map to.
type uaRequest struct {
	TrackingID string
	decoded
}

// uaHit is one event hit: category, action, label (MongooseIM up to 6.0:
// report_name, key, value).
type uaHit struct {
	index      int
	ec, ea, el string
}

// decodeUA decodes a UA body, one hit per line (at most 20), and maps the
// hits back to MongooseIM 6.1+ events: the inverse of the sidecar's
// reporting.uaHits, and what MongooseIM 3.6-6.0 sent (values printed with
// io_lib "~p", so strings in double quotes). Every hit must carry the same
// tracking id and client id.
func decodeUA(body []byte) (*uaRequest, *requestError) {
	text := strings.TrimRight(string(body), "\r\n")
	if strings.TrimSpace(text) == "" {
		return nil, badRequest("", "the body holds no hit")
	}
	lines := strings.Split(text, "\n")
	if len(lines) > maxUAHits {
		return nil, badRequest("", "%d hits, more than %d in one batch", len(lines), maxUAHits)
	}
	r := &uaRequest{decoded: decoded{Position: -1}}
	var hits []uaHit
	for i, line := range lines {
		q, err := url.ParseQuery(strings.TrimRight(line, "\r"))
		if err != nil {
			return nil, badRequest("", "hit %d is not URL-encoded parameters: %v", i+1, err)
		}
		if v := q.Get("v"); v != "1" {
			return nil, badRequest("v", "hit %d: v must be 1 (the protocol version), got %q", i+1, clip(v))
		}
		tid, cid := q.Get("tid"), unquote(q.Get("cid"))
		switch {
		case tid == "":
			return nil, missing("tid")
		case cid == "":
			return nil, missing("cid")
		case i == 0:
			r.TrackingID, r.ClientID = tid, cid
		case tid != r.TrackingID:
			return nil, badRequest("tid", "hit %d has another tracking id than hit 1; send one property per batch", i+1)
		case cid != r.ClientID:
			return nil, badRequest("cid", "hit %d has another client id than hit 1; send one cluster per batch", i+1)
		}
		if t := q.Get("t"); t != "event" {
			r.Dropped = append(r.Dropped, droppedEvent{Index: i, Err: drop(reasonBadValue, "t", "hit %d: type %q is not an event hit", i+1, clip(t))})
			continue
		}
		h := uaHit{index: i, ec: unquote(q.Get("ec")), ea: unquote(q.Get("ea")), el: unquote(q.Get("el"))}
		if h.ec == "" || h.ea == "" {
			r.Dropped = append(r.Dropped, droppedEvent{Index: i, Err: drop(reasonBadValue, "ec", "hit %d has no event category or action", i+1)})
			continue
		}
		hits = append(hits, h)
	}
	if rerr := checkClientID(r.ClientID); rerr != nil {
		return nil, rerr
	}
	kept, dropped := checkedEvents(eventsFromHits(hits))
	r.Events = kept
	r.Dropped = append(r.Dropped, dropped...)
	return r, nil
}

// unquote strips the double quotes MongooseIM's io_lib "~p" puts around
// strings.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// pendingEvent is an event rebuilt from hits, not yet validated.
type pendingEvent struct {
	index  int // the first hit's
	name   string
	group  string // the hits' category: hits of one event share it
	params map[string]any
	last   string // the last param added
}

// The 6.1+ cluster params for MongooseIM's pre-6.1 keys, in the order
// MongooseIM and the sidecar send them.
var clusterKeys = map[string]struct {
	param string
	order int
}{
	"uptime": {"uptime", 1}, "number_of_nodes": {"node_number", 2}, "mim_version": {"version", 3},
	"number_of_components": {"component", 4}, "config_type": {"config_type", 5},
}

// stanzaTypes are the categories of stanza count hits.
var stanzaTypes = map[string]bool{
	"xmppMessageSent": true, "xmppMessageReceived": true, "xmppIqSent": true,
	"xmppIqReceived": true, "xmppPresenceSent": true, "xmppPresenceReceived": true,
}

// eventsFromHits groups hits into events. Hits of one event are
// consecutive and share a category; the sidecar sends an event's params in
// sorted order (the cluster's in MongooseIM's order), so a param that does
// not come after the previous one starts a new event (two modules events of
// one module, one per host type).
func eventsFromHits(hits []uaHit) []pendingEvent {
	var out []pendingEvent
	single := func(h uaHit, name string, params map[string]any) {
		out = append(out, pendingEvent{index: h.index, name: name, params: params})
	}
	grouped := func(h uaHit, name, param, value string, after func(prev, next string) bool) {
		if n := len(out); n > 0 {
			cur := &out[n-1]
			if cur.group == h.ec && cur.name == name && cur.params[param] == nil && after(cur.last, param) {
				cur.params[param], cur.last = value, param
				return
			}
		}
		p := map[string]any{param: value}
		if name == "module_with_opt" {
			p["module"] = h.ec
		}
		out = append(out, pendingEvent{index: h.index, name: name, group: h.ec, params: p, last: param})
	}
	sorted := func(prev, next string) bool { return prev < next }
	clusterOrder := func(prev, next string) bool { return clusterOrderOf(prev) < clusterOrderOf(next) }
	for _, h := range hits {
		switch {
		case h.ec == "hosts" || h.ec == "domains" || h.ec == "custom_modules":
			name := map[string]string{"hosts": "host_count", "domains": "domain_count", "custom_modules": "custom_module_count"}[h.ec]
			param := "value"
			if h.ea != "count" {
				param = h.ea // unknown: dropped by the schema
			}
			single(h, name, map[string]any{param: h.el})
		case h.ec == "cluster":
			param := h.ea
			if k, ok := clusterKeys[h.ea]; ok {
				param = k.param
			}
			grouped(h, "cluster", param, h.el, clusterOrder)
		case h.ec == "http_api" || h.ec == "transport_mechanism":
			grouped(h, h.ec, h.ea, h.el, sorted)
		case h.ec == "tls_option":
			single(h, "tls_option", map[string]any{"mode": h.ea, "module": h.el})
		case h.ec == "outgoing_pools":
			param := "value"
			if h.ea != "type" {
				param = h.ea
			}
			single(h, "outgoing_pool", map[string]any{param: h.el})
		case stanzaTypes[h.ec]:
			single(h, "xmpp_stanza_count", map[string]any{"stanza_type": h.ec, "total": h.ea, "increment": h.el})
		case h.ea == "none" && h.el == "none":
			single(h, "module_with_opt", map[string]any{"module": h.ec})
		default:
			grouped(h, "module_with_opt", h.ea, h.el, sorted)
		}
	}
	return out
}

func clusterOrderOf(param string) int {
	for _, k := range clusterKeys {
		if k.param == param {
			return k.order
		}
	}
	return 100
}

// eventsFromLegacyReport maps MongooseIM 3.6-6.0's report entries
// (report_name, key, value: the system_metrics_report.json of those
// versions) to events, as their UA hits are.
func eventsFromLegacyReport(entries []legacyEntry) []pendingEvent {
	hits := make([]uaHit, len(entries))
	for i, e := range entries {
		hits[i] = uaHit{index: i, ec: e.ReportName, ea: e.Key, el: e.Value}
	}
	return eventsFromHits(hits)
}

// checkedEvents validates rebuilt events.
func checkedEvents(pending []pendingEvent) ([]contract.Event, []droppedEvent) {
	var kept []contract.Event
	var dropped []droppedEvent
	for _, p := range pending {
		e, derr := checkEvent(p.name, p.params, true)
		if derr != nil {
			dropped = append(dropped, droppedEvent{Index: p.index, Err: derr})
			continue
		}
		kept = append(kept, e)
	}
	return kept, dropped
}
