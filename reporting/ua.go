package reporting

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/metrics"
)

// uaSunsetNotice is logged once when a UA destination is configured.
const uaSunsetNotice = "Google stopped processing Universal Analytics hits on 1 July 2023 (360 properties: 1 July 2024); " +
	"reports to UA properties are most likely discarded. Use a GA4 tracking id (G-XXXX:API_SECRET) instead."

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
			if err := contract.CheckGA4Event(e); err != nil {
				dropped = append(dropped, Dropped{Node: r.Node, Event: e.Name, Reason: err.Error()})
				continue
			}
			var eventLines []string
			eventSize := 0
			for _, h := range contract.UAHits(e) {
				line := contract.EncodeUAHit(dest.ID, clientID, h)
				if len(line) > contract.MaxUAHitBytes {
					dropped = append(dropped, Dropped{Node: r.Node, Event: e.Name,
						Reason: fmt.Sprintf("UA hit %s/%s is %d bytes, more than %d", h.Category, h.Action, len(line), contract.MaxUAHitBytes)})
					continue
				}
				eventLines = append(eventLines, line)
				eventSize += len(line) + 1
			}
			// One event's hits stay in one request when they fit, so that a
			// receiver can map them back to the event (contract.EventsFromUAHits).
			if len(lines) > 0 && (len(lines)+len(eventLines) > contract.MaxUAHits || size+eventSize > contract.MaxUABatchBytes) {
				flush()
			}
			for _, line := range eventLines {
				extra := len(line)
				if len(lines) > 0 {
					extra++ // newline
				}
				if len(lines) == contract.MaxUAHits || size+extra > contract.MaxUABatchBytes {
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
