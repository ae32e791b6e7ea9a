package reporting

import (
	"context"
	"time"

	"github.com/mim-metrics/mim-metrics/metrics"
)

// Source gathers reports from the cluster. The collector implements it.
type Source interface {
	// Collect gathers one cycle: one NodeReport per cluster member.
	Collect(ctx context.Context) ([]metrics.NodeReport, error)
	// ClusterID returns the cluster's own Cluster ID
	// (mongoose_cluster_id:get_cached_cluster_id()), or ErrNoClusterID when
	// the cluster has none (ejabberd, old MongooseIM).
	ClusterID(ctx context.Context) (string, error)
}

// ErrNoClusterID is returned by Source.ClusterID when the cluster has no
// Cluster ID of its own. The reporter then uses a locally generated one.
// It is the collector's own (metrics.ErrNoClusterID), so a
// *metrics.Collector is a Source as it is.
var ErrNoClusterID = metrics.ErrNoClusterID

// WithTimeout bounds each Collect of src by timeout (--timeout), and so the
// ClusterID question that precedes it: a node that accepts the connection
// and never answers must not hold a cycle until the next tick.
func WithTimeout(src Source, timeout time.Duration) Source {
	return timedSource{src: src, timeout: timeout}
}

type timedSource struct {
	src     Source
	timeout time.Duration
}

func (s timedSource) Collect(ctx context.Context) ([]metrics.NodeReport, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return s.src.Collect(ctx)
}

func (s timedSource) ClusterID(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return s.src.ClusterID(ctx)
}
