package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"go.uber.org/zap"

	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/reporting"
)

// previewReport is one node in preview's JSON: its events as
// MongooseIM 6.1+ writes them to system_metrics_report.json.
type previewReport struct {
	Node   string          `json:"node"`
	Server string          `json:"server,omitempty"`
	Error  string          `json:"error,omitempty"`
	Events []metrics.Event `json:"events"`
}

// runPreview collects once and prints the reports as JSON, then, unless
// --json, the exact HTTP requests every destination would receive, with
// secrets masked. It sends nothing and writes no report file.
func runPreview(ctx context.Context, c *config, getenv func(string) string, log *zap.Logger, w io.Writer) (int, error) {
	cfg, err := reportingConfig(c, getenv, log)
	if err != nil {
		return exitUsage, err
	}
	cl, err := dial(ctx, c)
	if err != nil {
		return exitFailure, err
	}
	defer cl.Close()
	col := metrics.NewCollector(cl, log)
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	reports, err := col.Collect(cctx)
	if err != nil {
		return exitFailure, err
	}
	out := make([]previewReport, len(reports))
	server := metrics.Server("")
	failed := 0
	for i, r := range reports {
		out[i] = previewReport{Node: r.Node, Server: string(r.Server), Events: r.Events}
		if out[i].Events == nil {
			out[i].Events = []metrics.Event{}
		}
		if r.Err != nil {
			out[i].Error = r.Err.Error()
			failed++
		}
		if r.Server == metrics.MongooseIM || server == "" {
			server = r.Server
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return exitFailure, err
	}
	if !c.jsonOnly {
		clientID, err := col.ClusterID(cctx)
		if errors.Is(err, reporting.ErrNoClusterID) {
			clientID, err = reporting.LocalClusterID(cfg.StateDir)
		}
		if err != nil {
			return exitFailure, fmt.Errorf("cluster id: %w", err)
		}
		fmt.Fprintf(w, "\n# %s\n", cfg.Targets.Describe(server, cfg.ReportFile))
		if err := reporting.Preview(w, cfg.Targets.For(server), cfg.Endpoint, clientID, time.Now(), reports); err != nil {
			return exitFailure, err
		}
	}
	if failed > 0 {
		return exitFailure, fmt.Errorf("%d of %d nodes could not be collected", failed, len(reports))
	}
	return exitOK, nil
}
