package reporting

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/metrics"
)

// deadlineSource records the deadline each call got.
type deadlineSource struct{ collect, clusterID time.Duration }

func (d *deadlineSource) Collect(ctx context.Context) ([]metrics.NodeReport, error) {
	dl, ok := ctx.Deadline()
	if !ok {
		return nil, errors.New("Collect: no deadline")
	}
	d.collect = time.Until(dl)
	return nil, nil
}

func (d *deadlineSource) ClusterID(ctx context.Context) (string, error) {
	dl, ok := ctx.Deadline()
	if !ok {
		return "", errors.New("ClusterID: no deadline")
	}
	d.clusterID = time.Until(dl)
	return "", metrics.ErrNoClusterID
}

func TestWithTimeoutBoundsBothCalls(t *testing.T) {
	t.Parallel()
	d := &deadlineSource{}
	src := WithTimeout(d, 3*time.Second)
	if _, err := src.Collect(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err := src.ClusterID(context.Background())
	// The collector's "no Cluster ID" is the reporter's: no translation.
	if !errors.Is(err, ErrNoClusterID) {
		t.Fatalf("ClusterID error %v, want ErrNoClusterID", err)
	}
	for name, left := range map[string]time.Duration{"Collect": d.collect, "ClusterID": d.clusterID} {
		if left <= 0 || left > 3*time.Second {
			t.Errorf("%s had %v left, want (0, 3s]", name, left)
		}
	}
	// A caller's shorter deadline stays.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := src.Collect(ctx); err != nil {
		t.Fatal(err)
	}
	if d.collect > 50*time.Millisecond {
		t.Errorf("Collect had %v left under a 50ms caller deadline", d.collect)
	}
}
