package receiver

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/reporting"
)

// goldenCluster is a two-node cluster answering with golden reports: the
// sidecar's Source, without Erlang.
type goldenCluster struct{ reports []metrics.NodeReport }

func (g goldenCluster) Collect(context.Context) ([]metrics.NodeReport, error) { return g.reports, nil }
func (g goldenCluster) ClusterID(context.Context) (string, error)             { return testClient, nil }

// inMemory reads an ingest count not yet flushed.
func (rc *Receiver) inMemory(property, name, reason string) int64 {
	rc.health.mu.Lock()
	defer rc.health.mu.Unlock()
	var n int64
	for k, v := range rc.health.m {
		if k.property == property && k.name == name && k.reason == reason {
			n += v
		}
	}
	return n
}

// TestSidecarRetriesThroughOutage: the sidecar's own service reports while
// PostgreSQL is stopped; the receiver answers 503, the sidecar backs off
// and retries, PostgreSQL comes back, and every event arrives once. Not
// parallel: it stops the package's one server.
func TestSidecarRetriesThroughOutage(t *testing.T) {
	e := newEnvOn(t, pg.NewDatabase(t), "", nil)
	golden := goldenReports(t)
	reports := []metrics.NodeReport{
		{Node: "mim1@sentinel-host", Server: metrics.MongooseIM, Version: "6.2.1", Events: golden["mim-6.2.1"]},
		{Node: "mim2@sentinel-host", Server: metrics.MongooseIM, Version: "6.2.1", Events: golden["mim-6.2.1"]},
	}
	dest, err := reporting.ParseReceiverURL(strings.Replace(e.srv.URL, "://", "://G-TEST1234:secret-abc@", 1))
	if err != nil {
		t.Fatal(err)
	}
	cfg := reporting.DefaultConfig()
	cfg.Source = goldenCluster{reports}
	cfg.Consent = reporting.Consent{Mode: reporting.ModeReport, Reason: "test"}
	cfg.Targets = reporting.Targets{Receivers: []reporting.Destination{dest}}
	cfg.StateDir = t.TempDir()
	cfg.ReportFile = filepath.Join(t.TempDir(), "report.json")
	cfg.Retry = reporting.RetryPolicy{Attempts: 100, BaseDelay: 50 * time.Millisecond, MaxDelay: 500 * time.Millisecond}
	svc, err := reporting.NewService(cfg)
	if err != nil {
		t.Fatal(err)
	}

	if err := pg.Pause(); err != nil {
		t.Fatal(err)
	}
	resumed := false
	t.Cleanup(func() {
		if !resumed {
			_ = pg.Resume()
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	type outcome struct {
		res reporting.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := svc.RunOnce(ctx)
		done <- outcome{res, err}
	}()
	for e.rc.inMemory(testGA4ID, countRejected, reasonStoreDown) < 3 {
		select {
		case o := <-done:
			t.Fatalf("the cycle ended while the database was down: %+v %v", o.res, o.err)
		case <-ctx.Done():
			t.Fatal("no 503 within 120 s")
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := pg.Resume(); err != nil {
		t.Fatal(err)
	}
	resumed = true
	var o outcome
	select {
	case o = <-done:
	case <-ctx.Done():
		t.Fatal("the cycle did not end within 120 s")
	}
	if o.err != nil || len(o.res.Destinations) != 1 || !o.res.Destinations[0].OK() {
		t.Fatalf("cycle: %v %+v", o.err, o.res)
	}
	d := o.res.Destinations[0]
	if d.Delivered != d.Requests || d.Attempts <= d.Requests {
		t.Errorf("delivered %d of %d requests in %d attempts: want all, with retries", d.Delivered, d.Requests, d.Attempts)
	}
	if got, want := len(e.exported(t)), 2*len(golden["mim-6.2.1"]); got != want {
		t.Errorf("%d events stored, want %d: each once", got, want)
	}
	c := e.counts(t)
	if c[testGA4ID+" stored"] != int64(d.Requests) || c[testGA4ID+" rejected "+reasonStoreDown] < 3 {
		t.Errorf("ingest counts %v, want %d stored", c, d.Requests)
	}
}
