package reporting

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/mim-metrics/mim-metrics/metrics"
)

// Preview writes to w, for each destination, the exact HTTP requests that
// would deliver reports (method, URL with the API secret masked, headers,
// body), and the events that would be dropped and why. It sends nothing.
// at is the cycle's time, which dates requests to a receiver.
// The requests come from BuildRequests, as the sender's do. Lines that are
// not part of a request start with "#"; node names appear only there.
func Preview(w io.Writer, dests []Destination, endpoint, clientID string, at time.Time, reports []metrics.NodeReport) error {
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
