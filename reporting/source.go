package reporting

import (
	"context"
	"errors"

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
var ErrNoClusterID = errors.New("the cluster has no Cluster ID")
