package main

import (
	"go.uber.org/zap"

	"github.com/mim-metrics/mim-metrics/node"
	"github.com/mim-metrics/mim-metrics/observe"
	"github.com/mim-metrics/mim-metrics/reporting"
)

// serveMetrics starts the operator's metrics endpoint (--metrics-listen)
// and wires it into cfg: every collection and every cycle is observed. The
// returned function stops the endpoint.
func serveMetrics(addr string, cl *node.Cluster, cfg *reporting.Config, log *zap.Logger) (func(), error) {
	exp := observe.New(observe.Options{
		Version:    versionString(),
		RoundTrips: func(n string) int64 { return cl.Stats(n).Calls },
	})
	cfg.Source = exp.Source(cfg.Source)
	cfg.Observer = exp.ObserveCycle
	srv, err := observe.Listen(addr, exp.Handler())
	if err != nil {
		return nil, err
	}
	log.Info("metrics endpoint listening: /metrics, /healthz, /readyz", zap.String("metrics_listen", srv.Addr().String()))
	return func() { _ = srv.Close() }, nil
}
