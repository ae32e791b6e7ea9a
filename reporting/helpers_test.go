package reporting

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/test/fakega"
	"github.com/mim-metrics/mim-metrics/test/testkit"
)

// fakeSource returns fixed reports. It records when Collect starts.
type fakeSource struct {
	mu         sync.Mutex
	reports    []metrics.NodeReport
	clusterID  string
	idErr      error
	collectErr error
	delay      time.Duration // Collect takes this long (ends early on ctx)
	block      chan struct{} // if set, the first Collect waits for it, ignoring ctx
	starts     []time.Time
}

func (f *fakeSource) Collect(ctx context.Context) ([]metrics.NodeReport, error) {
	f.mu.Lock()
	f.starts = append(f.starts, time.Now())
	first := len(f.starts) == 1
	delay, block := f.delay, f.block
	reports := append([]metrics.NodeReport(nil), f.reports...)
	err := f.collectErr
	f.mu.Unlock()
	if first && block != nil {
		<-block
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return reports, err
}

func (f *fakeSource) ClusterID(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.idErr != nil {
		return "", f.idErr
	}
	if f.clusterID == "" {
		return "", ErrNoClusterID
	}
	return f.clusterID, nil
}

func (f *fakeSource) collectStarts() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.starts...)
}

// mimEvents is a MongooseIM 6.8 report (reference §5.3).
func mimEvents() []contract.Event {
	return []contract.Event{
		{Name: contract.HostCount, Params: map[string]any{"value": int64(1)}},
		{Name: contract.DomainCount, Params: map[string]any{"value": int64(1)}},
		{Name: contract.ModuleWithOpt, Params: map[string]any{"module": "mod_adhoc"}},
		{Name: contract.ModuleWithOpt, Params: map[string]any{"module": "mod_muc", "backend": "rdbms", "online_backend": "cets"}},
		{Name: contract.ModuleWithOpt, Params: map[string]any{"module": "mod_push_service_mongoosepush", "api_version": "v3"}},
		{Name: contract.CustomModuleCount, Params: map[string]any{"value": int64(3)}},
		{Name: contract.Cluster, Params: map[string]any{"uptime": "0000-00:05:00", "version": "6.8.0", "component": int64(0), "node_number": int64(2), "config_type": "toml"}},
		{Name: contract.HTTPAPI, Params: map[string]any{"mongoose_graphql_handler": "enabled", "mongoose_websocket_handler": "enabled"}},
		{Name: contract.TransportMechanism, Params: map[string]any{"mongoose_websocket_handler": "enabled", "tcp": "enabled"}},
		{Name: contract.TLSOption, Params: map[string]any{"mode": "starttls", "module": "fast_tls"}},
		{Name: contract.OutgoingPool, Params: map[string]any{"value": "rdbms"}},
		{Name: contract.XMPPStanzaCount, Params: map[string]any{"stanza_type": "xmppMessageSent", "total": int64(12), "increment": int64(3)}},
		{Name: contract.XMPPStanzaCount, Params: map[string]any{"stanza_type": "xmppMessageReceived", "total": int64(10), "increment": int64(2)}},
	}
}

func mimReport(node string) metrics.NodeReport {
	return metrics.NodeReport{Node: node, Server: metrics.MongooseIM, Version: "6.8.0", Events: mimEvents()}
}

// observed returns a logger that records everything.
func observed() (*zap.Logger, *observer.ObservedLogs) {
	core, logs := observer.New(zapcore.DebugLevel)
	return zap.New(core), logs
}

// logText renders every entry (message and fields) as text.
func logText(logs *observer.ObservedLogs) string {
	var b strings.Builder
	for _, e := range logs.All() {
		fmt.Fprintf(&b, "%s %s %v\n", e.Level, e.Message, e.ContextMap())
	}
	return b.String()
}

// testConfig is a fast configuration: report at once, short period, quick
// retries, an explicit consent, files in temporary directories.
func testConfig(t *testing.T, src Source, endpoint string, log *zap.Logger) Config {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Source = src
	cfg.Consent = Consent{Mode: ModeReport, Reason: "--report"}
	cfg.Endpoint = endpoint
	cfg.ReportFile = filepath.Join(t.TempDir(), "system_metrics_report.json")
	cfg.StateDir = filepath.Join(t.TempDir(), "state")
	cfg.InitialDelay = 0
	cfg.Period = 30 * time.Second // bounds RunOnce
	cfg.RequestTimeout = 5 * time.Second
	cfg.Retry = RetryPolicy{Attempts: 4, BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond}
	cfg.Logger = log
	return cfg
}

func newService(t *testing.T, cfg Config) *Service {
	t.Helper()
	s, err := NewService(cfg)
	if err != nil {
		t.Fatalf("NewService: %v", err)
	}
	return s
}

func mustDest(t *testing.T, s string) Destination {
	t.Helper()
	d, err := ParseTrackingID(s)
	if err != nil {
		t.Fatalf("ParseTrackingID(%q): %v", s, err)
	}
	return d
}

// runService runs s.Run in the background; the returned stop cancels it and
// waits, failing the test if Run takes more than limit to return.
func runService(t *testing.T, s *Service, limit time.Duration) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(limit):
				t.Errorf("Run did not return within %v of cancellation", limit)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func zapField(key, value string) zapcore.Field {
	return zap.String(key, value)
}

// schedule is a running service on a manual clock, collecting from a
// gated source and sending to a fake Google Analytics.
type schedule struct {
	t0    time.Time // when the clock started
	clock *testkit.ManualClock[Timer]
	src   *gatedSource
	ga    *fakega.Server
	logs  *observer.ObservedLogs
}

// runSchedule runs a service with initialDelay and period until the test
// ends.
func runSchedule(t *testing.T, initialDelay, period time.Duration) schedule {
	t.Helper()
	s := schedule{t0: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), ga: fakega.New(t)}
	s.clock = testkit.NewManualClock[Timer](s.t0)
	s.src = newGatedSource(s.clock)
	log, logs := observed()
	s.logs = logs
	cfg := testConfig(t, s.src, s.ga.URL, log)
	cfg.Clock = s.clock
	cfg.InitialDelay = initialDelay
	cfg.Period = period
	runService(t, newService(t, cfg), 2*time.Second)
	return s
}

// gatedSource's Collect reports when it starts (fake time and context)
// and then waits for a release or for its context to end.
type gatedSource struct {
	clock   *testkit.ManualClock[Timer]
	reports []metrics.NodeReport
	started chan collectStart
	release chan struct{}
}

type collectStart struct {
	at  time.Time
	ctx context.Context
}

func newGatedSource(clock *testkit.ManualClock[Timer]) *gatedSource {
	return &gatedSource{clock: clock, reports: []metrics.NodeReport{mimReport("mim@h")},
		started: make(chan collectStart, 10), release: make(chan struct{})}
}

func (g *gatedSource) Collect(ctx context.Context) ([]metrics.NodeReport, error) {
	g.started <- collectStart{at: g.clock.Now(), ctx: ctx}
	select {
	case <-g.release:
		return g.reports, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (g *gatedSource) ClusterID(context.Context) (string, error) { return "cid", nil }

// nextStart waits for the next Collect.
func (g *gatedSource) nextStart(t *testing.T) collectStart {
	t.Helper()
	select {
	case s := <-g.started:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("no report cycle started")
		return collectStart{}
	}
}

// releaseOne lets one waiting Collect return.
func (g *gatedSource) releaseOne(t *testing.T) {
	t.Helper()
	select {
	case g.release <- struct{}{}:
	case <-time.After(5 * time.Second):
		t.Fatal("no Collect is waiting")
	}
}

// noStart checks that no Collect starts for a short while.
func (g *gatedSource) noStart(t *testing.T) {
	t.Helper()
	select {
	case s := <-g.started:
		t.Fatalf("unexpected cycle at %v", s.at)
	case <-time.After(30 * time.Millisecond):
	}
}
