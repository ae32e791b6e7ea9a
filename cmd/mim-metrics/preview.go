package main

import (
	"context"
	"io"

	"go.uber.org/zap"

	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/reporting"
)

// runPreview collects once and prints the reports as JSON, then, unless
// --json, the exact HTTP requests every destination would receive, with
// secrets masked (reporting.Service.Preview). It sends nothing and writes
// no report file.
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
	cfg.Source = reporting.WithTimeout(metrics.NewCollector(cl, log), c.timeout)
	svc, err := reporting.NewService(cfg)
	if err != nil {
		return exitUsage, usagef("%v", err)
	}
	if err := svc.Preview(ctx, w, c.jsonOnly); err != nil {
		return exitFailure, err
	}
	return exitOK, nil
}
