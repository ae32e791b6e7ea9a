package reporting

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/metrics"
)

// sanitizeReports validates every event of every report (contract.CheckGA4Event)
// and returns copies without the invalid ones, plus what was dropped.
func sanitizeReports(reports []metrics.NodeReport) ([]metrics.NodeReport, []Dropped) {
	out := make([]metrics.NodeReport, len(reports))
	var dropped []Dropped
	for i, r := range reports {
		out[i] = r
		out[i].Events = nil
		for _, e := range r.Events {
			if err := contract.CheckGA4Event(e); err != nil {
				dropped = append(dropped, Dropped{Node: r.Node, Event: e.Name, Reason: err.Error()})
				continue
			}
			out[i].Events = append(out[i].Events, e)
		}
	}
	return out, dropped
}

// wireEvent is e as the report file writes it (params never null).
func wireEvent(e contract.Event) contract.Event {
	if e.Params == nil {
		e.Params = map[string]any{}
	}
	return e
}

// buildGA4 builds POST {endpoint}/mp/collect requests: per node, batches of
// at most 25 events whose body stays under 130 kB. Unless at is zero, the
// node at index i has timestamp_micros at + i µs in all its requests, and
// each request says its position among the node's requests
// (user_properties.mim_batch, from 0): two requests of one report with the
// same events (two host types with the same modules) are then still two
// requests to the receiver, and a retry is one.
func buildGA4(dest Destination, base *url.URL, clientID string, at time.Time, reports []metrics.NodeReport) ([]Request, []Dropped) {
	u := endpointURL(base, "/mp/collect")
	u.RawQuery = url.Values{"measurement_id": {dest.ID}, "api_secret": {dest.Secret}}.Encode()
	cid, _ := contract.MarshalJSON(clientID) // a string always encodes
	const (
		eventsStart = `,"events":[`
		suffix      = `]}`
		batchStart  = `,"user_properties":{"mim_batch":{"value":`
		batchEnd    = `}}`
	)

	var reqs []Request
	var dropped []Dropped
	for i, r := range reports {
		head := append([]byte(`{"client_id":`), cid...)
		overhead := len(eventsStart) + len(suffix) // with head: the most bytes around the events
		if !at.IsZero() {
			head = strconv.AppendInt(append(head, `,"timestamp_micros":`...), at.UnixMicro()+int64(i), 10)
			overhead += len(batchStart) + 20 + len(batchEnd) // 20: the longest int64
		}
		var batch [][]byte
		size := 0     // bytes of the events in batch, with separating commas
		position := 0 // of the next request among the node's
		flush := func() {
			if len(batch) == 0 {
				return
			}
			body := make([]byte, 0, len(head)+overhead+size)
			body = append(body, head...)
			if !at.IsZero() {
				body = strconv.AppendInt(append(body, batchStart...), int64(position), 10)
				body = append(body, batchEnd...)
			}
			body = append(body, eventsStart...)
			body = append(body, bytes.Join(batch, []byte(","))...)
			body = append(body, suffix...)
			position++
			reqs = append(reqs, Request{
				Method: http.MethodPost,
				URL:    u,
				Header: http.Header{"Content-Type": {"application/json"}, "User-Agent": {userAgent}},
				Body:   body,
				Node:   r.Node,
				Events: len(batch),
				secret: dest.Secret,
			})
			batch, size = nil, 0
		}
		for _, e := range r.Events {
			if err := contract.CheckGA4Event(e); err != nil {
				dropped = append(dropped, Dropped{Node: r.Node, Event: e.Name, Reason: err.Error()})
				continue
			}
			enc, err := contract.EncodeGA4Event(e)
			if err != nil {
				dropped = append(dropped, Dropped{Node: r.Node, Event: e.Name, Reason: "cannot encode as JSON: " + err.Error()})
				continue
			}
			if len(head)+overhead+len(enc) >= contract.MaxGA4BodyBytes {
				dropped = append(dropped, Dropped{Node: r.Node, Event: e.Name,
					Reason: fmt.Sprintf("encoded event is %d bytes; a request body must be smaller than %d", len(enc), contract.MaxGA4BodyBytes)})
				continue
			}
			extra := len(enc)
			if len(batch) > 0 {
				extra++ // comma
			}
			if len(batch) == contract.MaxGA4Events || len(head)+overhead+size+extra >= contract.MaxGA4BodyBytes {
				flush()
				extra = len(enc)
			}
			batch = append(batch, enc)
			size += extra
		}
		flush()
	}
	return reqs, dropped
}
