package reporting

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/inventory"
	"github.com/mim-metrics/mim-metrics/metrics"
)

// DefaultReportFile is where the last report is written by default.
const DefaultReportFile = "./system_metrics_report.json"

// The report file is local information: it names the nodes, which are never
// sent to a destination.
type fileReport struct {
	ClientID     string            `json:"client_id"`
	GeneratedAt  string            `json:"generated_at"`
	Nodes        []fileNode        `json:"nodes"`
	Destinations []fileDestination `json:"destinations"`
	// Drift is where the collected nodes differ; empty when they agree.
	Drift []inventory.Difference `json:"drift"`
}

type fileNode struct {
	Node    string           `json:"node"`
	Server  string           `json:"server,omitempty"`
	Version string           `json:"version,omitempty"`
	Error   string           `json:"error,omitempty"`
	Down    bool             `json:"down,omitempty"` // a member the cluster records that is not running
	Events  []contract.Event `json:"events"`
	Dropped []fileDropped    `json:"dropped,omitempty"`
}

type fileDropped struct {
	Event  string `json:"event"`
	Reason string `json:"reason"`
}

type fileDestination struct {
	Destination string `json:"destination"`
	Outcome     string `json:"outcome"`
	Requests    int    `json:"requests"`
	Delivered   int    `json:"delivered"`
	Attempts    int    `json:"attempts"`
	Status      int    `json:"status,omitempty"`
	Error       string `json:"error,omitempty"`
}

// encodeReportFile renders the report file: the client id, the time, every
// node's events exactly as sent (in the shape of MongooseIM 6.1+'s
// system_metrics_report.json), what was dropped and why, and what each
// destination did. JSON, indented by two spaces.
func encodeReportFile(clientID string, at time.Time, reports []metrics.NodeReport, dropped []Dropped, results []DestinationResult) ([]byte, error) {
	f := fileReport{
		ClientID:     clientID,
		GeneratedAt:  at.UTC().Format(time.RFC3339),
		Nodes:        make([]fileNode, 0, len(reports)),
		Destinations: make([]fileDestination, 0, len(results)),
		Drift:        append([]inventory.Difference{}, inventory.Drift(reports)...),
	}
	byNode := map[string][]fileDropped{}
	for _, d := range dropped {
		byNode[d.Node] = append(byNode[d.Node], fileDropped{Event: d.Event, Reason: d.Reason})
	}
	for _, r := range reports {
		n := fileNode{Node: r.Node, Server: string(r.Server), Version: r.Version, Down: r.Down, Events: make([]contract.Event, 0, len(r.Events)), Dropped: byNode[r.Node]}
		if r.Err != nil {
			n.Error = r.Err.Error()
		}
		for _, e := range r.Events {
			n.Events = append(n.Events, wireEvent(e))
		}
		f.Nodes = append(f.Nodes, n)
	}
	for _, res := range results {
		d := fileDestination{
			Destination: res.Destination.String(),
			Outcome:     string(res.Outcome),
			Requests:    res.Requests,
			Delivered:   res.Delivered,
			Attempts:    res.Attempts,
			Status:      res.Status,
		}
		if res.Err != nil {
			d.Error = maskSecretIn(res.Err.Error(), res.Destination.Secret)
		}
		f.Destinations = append(f.Destinations, d)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f); err != nil {
		return nil, fmt.Errorf("encode report file: %w", err)
	}
	return b.Bytes(), nil
}

// writeReportFile replaces path atomically with the report (see
// encodeReportFile).
func writeReportFile(path, clientID string, at time.Time, reports []metrics.NodeReport, dropped []Dropped, results []DestinationResult) error {
	data, err := encodeReportFile(clientID, at, reports, dropped, results)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(path, data, 0o644); err != nil {
		return fmt.Errorf("write report file: %w", err)
	}
	return nil
}
