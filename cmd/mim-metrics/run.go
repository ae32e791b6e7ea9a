package main

import (
	"context"
	"fmt"

	"go.uber.org/zap"

	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/reporting"
)

// reportingConfig builds the reporting service's configuration from the
// flags. It checks what must hold before anything connects.
func reportingConfig(c *config, getenv func(string) string, log *zap.Logger) (reporting.Config, error) {
	cfg := reporting.DefaultConfig()
	cfg.Consent = reporting.ResolveConsent(c.report, c.noReport, getenv)
	var own []reporting.Destination
	for _, id := range c.trackingIDs {
		d, err := reporting.ParseTrackingID(id)
		if err != nil {
			return cfg, usagef("--tracking-id: %v", err)
		}
		own = append(own, d)
	}
	cfg.Targets = reporting.NewTargets(c.upstream, own, getenv)
	for _, r := range c.receivers {
		d, err := reporting.ParseReceiverURL(r)
		if err != nil {
			return cfg, usagef("--receiver: %v", err)
		}
		cfg.Targets.Receivers = append(cfg.Targets.Receivers, d)
	}
	cfg.Endpoint = c.gaEndpoint
	cfg.ReportFile = c.reportFile
	cfg.StateDir = c.stateDir
	cfg.InitialDelay = c.initialReport
	cfg.Period = c.periodicReport
	cfg.Logger = log
	return cfg, nil
}

// runReporting is `run` (once=false) and `once`.
func runReporting(ctx context.Context, c *config, getenv func(string) string, log *zap.Logger, once bool) (int, error) {
	cfg, err := reportingConfig(c, getenv, log)
	if err != nil {
		return exitUsage, err
	}
	if !cfg.Consent.Announce(log, cfg.ReportFile) {
		return exitOK, nil
	}
	if err := reporting.CheckStateDir(cfg.StateDir); err != nil {
		return exitUsage, usagef("--state-dir: %v", err)
	}
	// The endpoint comes first: a port in use fails at once, and /healthz
	// answers while the cluster is dialled.
	var ep *metricsEndpoint
	if !once && c.metricsListen != "" {
		if ep, err = serveMetrics(c.metricsListen, log); err != nil {
			return exitFailure, err
		}
		defer ep.stop()
	}
	cl, err := dial(ctx, c)
	if err != nil {
		return exitFailure, err
	}
	defer cl.Close()
	col := metrics.NewCollector(cl, log)
	cfg.Source = reporting.WithTimeout(col, c.timeout)
	if ep != nil {
		ep.wire(cl, &cfg)
	}
	svc, err := reporting.NewService(cfg)
	if err != nil {
		return exitUsage, usagef("%v", err)
	}
	log.Info("mim-metrics started", zap.String("version", versionString()), zap.String("own_node", cl.Name()),
		zap.Strings("seeds", c.nodes), zap.Bool("discover", c.discover), zap.String("proto_dist", c.dist.proto))
	if !once {
		return exitOK, svc.Run(ctx)
	}
	res, err := svc.RunOnce(ctx)
	if err != nil {
		return exitFailure, err
	}
	if !res.Accepted() {
		return exitFailure, fmt.Errorf("not every destination accepted the report")
	}
	if res.Collected < res.Nodes {
		return exitFailure, fmt.Errorf("%d of %d nodes could not be collected", res.Nodes-res.Collected, res.Nodes)
	}
	return exitOK, nil
}
