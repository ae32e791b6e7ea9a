package reporting

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/metrics"
)

// Universal Analytics Measurement Protocol limits (developers.google.com/
// analytics/devguides/collection/protocol/v1/devguide, "Batching hits").
const (
	// maxUAHits is the most hits one /batch request may carry.
	maxUAHits = 20
	// maxUABatchBytes bounds the total size of a /batch body.
	maxUABatchBytes = 16 * 1024
	// maxUAHitBytes bounds one hit.
	maxUAHitBytes = 8 * 1024
)

// uaSunsetNotice is logged once when a UA destination is configured.
const uaSunsetNotice = "Google stopped processing Universal Analytics hits on 1 July 2023 (360 properties: 1 July 2024); " +
	"reports to UA properties are most likely discarded. Use a GA4 tracking id (G-XXXX:API_SECRET) instead."

// uaHit is one UA event hit: category, action, label.
type uaHit struct{ ec, ea, el string }

// uaHits maps a MongooseIM 6.1+ event to the hits MongooseIM up to 6.0 sent
// for the same fact (ec = report_name, ea = key, el = value).
func uaHits(e contract.Event) []uaHit {
	p := e.Params
	one := func(ec, ea string, v any) []uaHit { return []uaHit{{ec, ea, uaValue(v)}} }
	switch e.Name {
	case "host_count":
		return one("hosts", "count", p["value"])
	case "domain_count":
		return one("domains", "count", p["value"])
	case "custom_module_count":
		return one("custom_modules", "count", p["value"])
	case "module_with_opt":
		module := uaValue(p["module"])
		var hits []uaHit
		for _, k := range sortedKeys(p) {
			if k != "module" {
				hits = append(hits, uaHit{module, k, uaValue(p[k])})
			}
		}
		if len(hits) == 0 {
			hits = []uaHit{{module, "none", "none"}}
		}
		return hits
	case "cluster":
		// MongooseIM's pre-6.1 key for each 6.1+ param, in its order.
		order := []struct{ param, key string }{
			{"uptime", "uptime"},
			{"node_number", "number_of_nodes"},
			{"version", "mim_version"},
			{"component", "number_of_components"},
			{"config_type", "config_type"},
		}
		var hits []uaHit
		known := map[string]bool{}
		for _, o := range order {
			known[o.param] = true
			if v, ok := p[o.param]; ok {
				hits = append(hits, uaHit{"cluster", o.key, uaValue(v)})
			}
		}
		for _, k := range sortedKeys(p) {
			if !known[k] {
				hits = append(hits, uaHit{"cluster", k, uaValue(p[k])})
			}
		}
		return hits
	case "http_api", "transport_mechanism":
		var hits []uaHit
		for _, k := range sortedKeys(p) {
			hits = append(hits, uaHit{e.Name, k, uaValue(p[k])})
		}
		return hits
	case "tls_option":
		return one("tls_option", uaValue(p["mode"]), p["module"])
	case "outgoing_pool":
		return one("outgoing_pools", "type", p["value"])
	case "xmpp_stanza_count":
		return one(uaValue(p["stanza_type"]), uaValue(p["total"]), p["increment"])
	default:
		// An event MongooseIM never sent over UA: one hit per param.
		if len(p) == 0 {
			return []uaHit{{e.Name, "none", "none"}}
		}
		var hits []uaHit
		for _, k := range sortedKeys(p) {
			hits = append(hits, uaHit{e.Name, k, uaValue(p[k])})
		}
		return hits
	}
}

// uaValue renders a param value for a UA hit. Unlike MongooseIM (io_lib
// "~p"), strings carry no quotes; the hit encoding escapes them instead.
func uaValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "none"
	case string:
		return v
	case int64:
		return strconv.FormatInt(v, 10)
	default:
		return fmt.Sprint(v)
	}
}

// encodeUAHit builds one hit line, URL-encoded, in the conventional order
// v, tid, t, cid, ec, ea, el.
func encodeUAHit(tid, cid string, h uaHit) string {
	var b strings.Builder
	for i, kv := range [][2]string{{"v", "1"}, {"tid", tid}, {"t", "event"}, {"cid", cid}, {"ec", h.ec}, {"ea", h.ea}, {"el", h.el}} {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(kv[0]))
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(kv[1]))
	}
	return b.String()
}

// buildUA builds POST {endpoint}/batch requests: per node, batches of at
// most 20 hits, one per line, at most 16 KiB per body and 8 KiB per hit.
func buildUA(dest Destination, base *url.URL, clientID string, reports []metrics.NodeReport) ([]Request, []Dropped) {
	u := endpointURL(base, "/batch")
	var reqs []Request
	var dropped []Dropped
	for _, r := range reports {
		var lines []string
		size := 0
		flush := func() {
			if len(lines) == 0 {
				return
			}
			reqs = append(reqs, Request{
				Method: http.MethodPost,
				URL:    u,
				Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}, "User-Agent": {userAgent}},
				Body:   []byte(strings.Join(lines, "\n")),
				Node:   r.Node,
				Events: len(lines),
			})
			lines, size = nil, 0
		}
		for _, e := range r.Events {
			if err := validateEvent(e); err != nil {
				dropped = append(dropped, Dropped{Node: r.Node, Event: e.Name, Reason: err.Error()})
				continue
			}
			var eventLines []string
			eventSize := 0
			for _, h := range uaHits(e) {
				line := encodeUAHit(dest.ID, clientID, h)
				if len(line) > maxUAHitBytes {
					dropped = append(dropped, Dropped{Node: r.Node, Event: e.Name,
						Reason: fmt.Sprintf("UA hit %s/%s is %d bytes, more than %d", h.ec, h.ea, len(line), maxUAHitBytes)})
					continue
				}
				eventLines = append(eventLines, line)
				eventSize += len(line) + 1
			}
			// One event's hits stay in one request when they fit, so that a
			// receiver can map them back to the event (see receiver/ua.go).
			if len(lines) > 0 && (len(lines)+len(eventLines) > maxUAHits || size+eventSize > maxUABatchBytes) {
				flush()
			}
			for _, line := range eventLines {
				extra := len(line)
				if len(lines) > 0 {
					extra++ // newline
				}
				if len(lines) == maxUAHits || size+extra > maxUABatchBytes {
					flush()
					extra = len(line)
				}
				lines = append(lines, line)
				size += extra
			}
		}
		flush()
	}
	return reqs, dropped
}
