package receiver

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/mim-metrics/mim-metrics/contract"
)

// reportFile is a decoded system_metrics_report.json: the sidecar's
// (reporting/file.go: client id, time, one entry per node) or MongooseIM's
// own (a bare array of events, 6.1+, or of report_name/key/value entries,
// 3.6-6.0), which has neither client id nor time.
type reportFile struct {
	ClientID    string
	GeneratedAt time.Time // zero when the file does not say
	// Nodes holds each node's events, in the file's order. Node names are
	// read for nothing: they are never kept.
	Nodes []decoded
}

type sidecarFile struct {
	ClientID    *string `json:"client_id"`
	GeneratedAt string  `json:"generated_at"`
	Nodes       []struct {
		Events []json.RawMessage `json:"events"`
	} `json:"nodes"`
}

// legacyEntry is one entry of MongooseIM 3.6-6.0's report.
type legacyEntry struct {
	ReportName, Key, Value string
}

// decodeReportFile reads any of the three report file formats. An event
// that fails validation is dropped and listed, as in a request.
func decodeReportFile(data []byte) (*reportFile, *requestError) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, badRequest("", "the report file is empty")
	}
	switch data[0] {
	case '{':
		return decodeSidecarFile(data)
	case '[':
		return decodeMongooseIMFile(data)
	}
	return nil, badRequest("", "the report file is not JSON: expected the sidecar's object or MongooseIM's array of events")
}

func decodeSidecarFile(data []byte) (*reportFile, *requestError) {
	var f sidecarFile
	if err := contract.StrictJSON(data, &f); err != nil {
		return nil, badRequest("", "the report file is not the sidecar's format: %v", err)
	}
	if f.ClientID == nil {
		return nil, missing("client_id")
	}
	if rerr := checkClientID(*f.ClientID); rerr != nil {
		return nil, rerr
	}
	out := &reportFile{ClientID: *f.ClientID}
	if f.GeneratedAt != "" {
		t, err := time.Parse(time.RFC3339, f.GeneratedAt)
		if err != nil {
			return nil, badRequest("generated_at", "generated_at %q is not an RFC 3339 time", clip(f.GeneratedAt))
		}
		out.GeneratedAt = t
	}
	for _, n := range f.Nodes {
		var d decoded
		for i, raw := range n.Events {
			e, derr := contract.DecodeGA4Event(raw)
			if derr != nil {
				d.Dropped = append(d.Dropped, droppedEvent{Index: i, Err: derr})
				continue
			}
			d.Events = append(d.Events, e)
		}
		out.Nodes = append(out.Nodes, d)
	}
	return out, nil
}

func decodeMongooseIMFile(data []byte) (*reportFile, *requestError) {
	var entries []map[string]json.RawMessage
	if err := contract.StrictJSON(data, &entries); err != nil {
		return nil, badRequest("", "the report file is not an array of events: %v", err)
	}
	var d decoded
	legacy := len(entries) > 0 && entries[0]["report_name"] != nil
	if !legacy {
		for i, raw := range entries {
			b, _ := json.Marshal(raw) // re-encoding decoded JSON cannot fail
			e, derr := contract.DecodeGA4Event(b)
			if derr != nil {
				d.Dropped = append(d.Dropped, droppedEvent{Index: i, Err: derr})
				continue
			}
			d.Events = append(d.Events, e)
		}
		return &reportFile{Nodes: []decoded{d}}, nil
	}
	var legacyEntries []legacyEntry
	for i, m := range entries {
		var le legacyEntry
		var ok [3]bool
		le.ReportName, ok[0] = legacyText(m["report_name"])
		le.Key, ok[1] = legacyText(m["key"])
		le.Value, ok[2] = legacyText(m["value"])
		if !ok[0] || !ok[1] || !ok[2] {
			d.Dropped = append(d.Dropped, droppedEvent{Index: i, Err: drop(reasonBadValue, "", "entry %d is not a report_name, key and value", i+1)})
			continue
		}
		legacyEntries = append(legacyEntries, le)
	}
	kept, dropped := checkedEvents(eventsFromLegacyReport(legacyEntries))
	d.Events = kept
	d.Dropped = append(d.Dropped, dropped...)
	return &reportFile{Nodes: []decoded{d}}, nil
}

// legacyText renders an entry's term as MongooseIM's UA hit did: strings
// as they are, numbers in decimal, Erlang strings (jiffy writes them as
// arrays of character codes) as text.
func legacyText(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&n) == nil {
		return n.String(), true
	}
	var codes []int32
	if json.Unmarshal(raw, &codes) == nil {
		rs := make([]rune, len(codes))
		for i, c := range codes {
			if c < 0 || c > 0x10ffff {
				return "", false
			}
			rs[i] = c
		}
		return string(rs), true
	}
	return "", false
}
