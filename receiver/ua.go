package receiver

import (
	"net/url"
	"strings"

	"github.com/mim-metrics/mim-metrics/contract"
)

// uaRequest is a decoded /batch or /collect body: its tracking id and the
// events its hits map to.
type uaRequest struct {
	TrackingID string
	decoded
}

// decodeUA decodes a UA body, one hit per line (at most 20), and maps the
// hits back to MongooseIM 6.1+ events (contract.EventsFromUAHits): what
// the sidecar sent (contract.UAHits), and what MongooseIM 3.6-6.0 sent
// (values printed with io_lib "~p", so strings in double quotes). Every hit must carry the same
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
	var hits []contract.UAHit
	var lineOf []int // the line of each hit
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
		h := contract.UAHit{Category: unquote(q.Get("ec")), Action: unquote(q.Get("ea")), Label: unquote(q.Get("el"))}
		if h.Category == "" || h.Action == "" {
			r.Dropped = append(r.Dropped, droppedEvent{Index: i, Err: drop(reasonBadValue, "ec", "hit %d has no event category or action", i+1)})
			continue
		}
		hits, lineOf = append(hits, h), append(lineOf, i)
	}
	if rerr := checkClientID(r.ClientID); rerr != nil {
		return nil, rerr
	}
	kept, dropped := checkedEvents(contract.EventsFromUAHits(hits), lineOf)
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

// eventsFromLegacyReport maps MongooseIM 3.6-6.0's report entries
// (report_name, key, value: the system_metrics_report.json of those
// versions) to events, as their UA hits are, with the index of each
// event's first entry.
func eventsFromLegacyReport(entries []legacyEntry) ([]contract.UAEvent, []int) {
	hits := make([]contract.UAHit, len(entries))
	index := make([]int, len(entries))
	for i, e := range entries {
		hits[i] = contract.UAHit{Category: e.ReportName, Action: e.Key, Label: e.Value}
		index[i] = i
	}
	return contract.EventsFromUAHits(hits), index
}

// checkedEvents validates events rebuilt from hits; indexOf maps a hit to
// its position in the request.
func checkedEvents(pending []contract.UAEvent, indexOf []int) ([]contract.Event, []droppedEvent) {
	var kept []contract.Event
	var dropped []droppedEvent
	for _, p := range pending {
		e, derr := contract.Check(p.Name, p.Params, true)
		if derr != nil {
			dropped = append(dropped, droppedEvent{Index: indexOf[p.First], Err: derr})
			continue
		}
		kept = append(kept, e)
	}
	return kept, dropped
}
