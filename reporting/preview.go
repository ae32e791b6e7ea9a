package reporting

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/metrics"
)

// previewReport is one node in the preview's JSON.
type previewReport struct {
	Node   string           `json:"node"`
	Server string           `json:"server,omitempty"`
	Error  string           `json:"error,omitempty"`
	Events []contract.Event `json:"events"`
}

// writeReportsJSON writes the reports as an indented JSON array.
func writeReportsJSON(w io.Writer, reports []metrics.NodeReport) error {
	out := make([]previewReport, len(reports))
	for i, r := range reports {
		out[i] = previewReport{Node: r.Node, Server: string(r.Server), Events: r.Events}
		if out[i].Events == nil {
			out[i].Events = []contract.Event{}
		}
		if r.Err != nil {
			out[i].Error = r.Err.Error()
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("preview: %w", err)
	}
	return nil
}

// writeRequests writes to w, for each destination, the exact HTTP requests that
// would deliver reports (method, URL with the API secret masked, headers,
// body), and the events that would be dropped and why. It sends nothing.
// at is the cycle's time, which dates requests to a receiver.
// The requests come from BuildRequests, as the sender's do. Lines that are
// not part of a request start with "#"; node names appear only there.
func writeRequests(w io.Writer, dests []Destination, endpoint, clientID string, at time.Time, reports []metrics.NodeReport) error {
	p := &errWriter{w: w}
	if len(dests) == 0 {
		p.printf("# no destinations: nothing would be sent (the report file is still written)\n")
	}
	for i, d := range dests {
		reqs, dropped, err := BuildRequests(d, endpoint, clientID, at, reports)
		if err != nil {
			return fmt.Errorf("preview: %w", err)
		}
		if i > 0 {
			p.printf("\n")
		}
		p.printf("# ==== %s: %d request(s)\n", d, len(reqs))
		for _, dr := range dropped {
			p.printf("# dropped event %q of node %s: %s\n", dr.Event, dr.Node, dr.Reason)
		}
		for j, r := range reqs {
			p.printf("\n# request %d/%d: node %s, %d %s, %d bytes\n", j+1, len(reqs), r.Node, r.Events, unit(d.Protocol), len(r.Body))
			p.printf("%s %s\n", r.Method, r.MaskedURL())
			keys := make([]string, 0, len(r.Header)+1)
			for k := range r.Header {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				p.printf("%s: %s\n", k, strings.Join(r.Header[k], ", "))
			}
			p.printf("Content-Length: %d\n\n", len(r.Body))
			p.printf("%s\n", maskSecretIn(string(r.Body), d.Secret))
		}
	}
	if p.err != nil {
		return fmt.Errorf("preview: %w", p.err)
	}
	return nil
}

func unit(p Protocol) string {
	if p == UA {
		return "hits"
	}
	return "events"
}

// errWriter keeps the first write error.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
