package main

import (
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/mim-metrics/mim-metrics/node"
	"github.com/mim-metrics/mim-metrics/observe"
	"github.com/mim-metrics/mim-metrics/reporting"
)

// metricsEndpoint is the operator's metrics endpoint (--metrics-listen).
type metricsEndpoint struct {
	exp *observe.Exporter
	srv *observe.Server
	cl  atomic.Pointer[node.Cluster] // for the round trips, once dialled
}

// serveMetrics starts the endpoint on addr.
func serveMetrics(addr string, log *zap.Logger) (*metricsEndpoint, error) {
	ep := &metricsEndpoint{}
	ep.exp = observe.New(observe.Options{
		Version: versionString(),
		RoundTrips: func(n string) int64 {
			if cl := ep.cl.Load(); cl != nil {
				return cl.Stats(n).Calls
			}
			return 0
		},
	})
	srv, err := observe.Listen(addr, ep.exp.Handler())
	if err != nil {
		return nil, err
	}
	ep.srv = srv
	log.Info("metrics endpoint listening: /metrics, /healthz, /readyz", zap.String("metrics_listen", srv.Addr().String()))
	return ep, nil
}

// wire observes every collection and every cycle of cfg, through cl.
func (ep *metricsEndpoint) wire(cl *node.Cluster, cfg *reporting.Config) {
	ep.cl.Store(cl)
	cfg.Source = ep.exp.Source(cfg.Source)
	cfg.Observer = ep.exp.ObserveCycle
}

func (ep *metricsEndpoint) stop() { _ = ep.srv.Close() }
