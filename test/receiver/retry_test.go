package receiver_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/node"
	"github.com/mim-metrics/mim-metrics/reporting"
	"github.com/mim-metrics/mim-metrics/test/testkit"
)

// recordingTransport passes requests to the real transport and records the
// status of every attempt (0: no answer). It can lose answers: the server
// has answered 2xx (so it has stored the events), but the sidecar is told
// the connection broke, as when a network drops the answer, and retries.
type recordingTransport struct {
	base http.RoundTripper

	mu       sync.Mutex
	statuses []int
	lose     int // how many of the next 2xx answers to lose
	changed  chan struct{}
}

func newRecordingTransport() *recordingTransport {
	return &recordingTransport{base: http.DefaultTransport.(*http.Transport).Clone(), changed: make(chan struct{}, 1)}
}

func (rt *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := rt.base.RoundTrip(req)
	status := 0
	if err == nil {
		status = resp.StatusCode
	}
	rt.mu.Lock()
	rt.statuses = append(rt.statuses, status)
	lose := status >= 200 && status <= 299 && rt.lose > 0
	if lose {
		rt.lose--
	}
	rt.mu.Unlock()
	select {
	case rt.changed <- struct{}{}:
	default:
	}
	if lose {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, errors.New("test: the connection broke before the answer arrived")
	}
	return resp, err
}

// loseAnswers makes the next n 2xx answers get lost.
func (rt *recordingTransport) loseAnswers(n int) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.lose = n
}

// count returns how many attempts got status so far (0: no answer; 200:
// any 2xx), and how many attempts there were.
func (rt *recordingTransport) count(status int) (n, all int) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for _, s := range rt.statuses {
		if s == status || status == http.StatusOK && s >= 200 && s <= 299 {
			n++
		}
	}
	return n, len(rt.statuses)
}

// reset forgets the recorded statuses.
func (rt *recordingTransport) reset() {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.statuses = nil
}

// waitFor waits until cond holds (checked after every attempt, and every
// 100 ms), or timeout passes.
func (rt *recordingTransport) waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-rt.changed:
		case <-tick.C:
		case <-deadline.C:
			return cond()
		}
	}
	return true
}

// replaySource collects through src, or, when replaying, returns the
// last collection again: the same cycle, sent twice.
type replaySource struct {
	src reporting.Source

	mu      sync.Mutex
	replay  bool
	reports []metrics.NodeReport
}

func (r *replaySource) Collect(ctx context.Context) ([]metrics.NodeReport, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.replay {
		return r.reports, nil
	}
	reports, err := r.src.Collect(ctx)
	r.reports = reports
	return reports, err
}

func (r *replaySource) ClusterID(ctx context.Context) (string, error) { return r.src.ClusterID(ctx) }

func (r *replaySource) setReplay(on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.replay = on
}

// The hidden node of the in-process sidecars: one per process, as in the
// binary; TestMain closes it.
var (
	hiddenOnce    sync.Once
	hiddenCluster *node.Cluster
	hiddenErr     error
)

func hiddenNode(t *testing.T) *node.Cluster {
	t.Helper()
	hiddenOnce.Do(func() {
		// The node lives as long as Start's context: not a timeout's.
		hiddenCluster, hiddenErr = node.Start(context.Background(), node.Options{Seeds: []string{mimA.Name}, Cookie: cookie, Discover: true})
	})
	if hiddenErr != nil {
		t.Fatalf("hidden node: %v", hiddenErr)
	}
	return hiddenCluster
}

// sidecar is the reporting service in this process, collecting the
// fixture cluster through a real hidden node, sending to one receiver
// through a recording transport, with a fast retry policy.
type sidecar struct {
	svc        *reporting.Service
	source     *replaySource
	transport  *recordingTransport
	clock      *testkit.ManualClock[reporting.Timer] // stands still: a cycle run twice has one time
	reportFile string
}

func newSidecar(t *testing.T, receiverURL string, retry reporting.RetryPolicy) *sidecar {
	t.Helper()
	cl := hiddenNode(t)
	dest, err := reporting.ParseReceiverURL(strings.Replace(receiverURL, "://", "://"+property+":"+propertySecret+"@", 1))
	if err != nil {
		t.Fatal(err)
	}
	s := &sidecar{transport: newRecordingTransport(), clock: testkit.NewManualClock[reporting.Timer](time.Now()),
		source:     &replaySource{src: reporting.WithTimeout(metrics.NewCollector(cl, nil), 30*time.Second)},
		reportFile: filepath.Join(t.TempDir(), "system_metrics_report.json")}
	cfg := reporting.DefaultConfig()
	cfg.Source = s.source
	cfg.Consent = reporting.Consent{Mode: reporting.ModeReport, Reason: "--report"}
	cfg.Targets = reporting.Targets{Receivers: []reporting.Destination{dest}}
	cfg.ReportFile = s.reportFile
	cfg.StateDir = filepath.Join(t.TempDir(), "state")
	cfg.Period = 2 * time.Minute // bounds RunOnce
	cfg.RequestTimeout = 10 * time.Second
	cfg.Retry = retry
	cfg.HTTPClient = reporting.NewHTTPClient()
	cfg.HTTPClient.Transport = s.transport
	cfg.Clock = s.clock
	if s.svc, err = reporting.NewService(cfg); err != nil {
		t.Fatal(err)
	}
	return s
}

// once runs one cycle and fails t unless the receiver accepted all of it.
func (s *sidecar) once(t *testing.T, what string) reporting.DestinationResult {
	t.Helper()
	res, err := s.svc.RunOnce(context.Background())
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if !res.Accepted() || res.Collected != 2 {
		t.Fatalf("%s: accepted %t, %d of %d nodes collected: %+v", what, res.Accepted(), res.Collected, res.Nodes, res.Destinations)
	}
	return res.Destinations[0]
}

// TestRetriedRequestsStoredOnce: a request the receiver stored but whose
// answer was lost is sent again, and stored once; a cycle run again with
// the same time and the same reports is stored once; a new cycle is
// stored as new reports.
func TestRetriedRequestsStoredOnce(t *testing.T) {
	t.Parallel()
	db := "sqlite:" + filepath.Join(t.TempDir(), "receiver.db")
	recv := startReceiver(t, db)
	sc := newSidecar(t, recv.URL, reporting.RetryPolicy{Attempts: 5, BaseDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond})

	sc.transport.loseAnswers(3)
	d := sc.once(t, "the cycle with lost answers")
	if ok, all := sc.transport.count(http.StatusOK); all != d.Requests+3 || d.Attempts != all {
		t.Errorf("%d requests, %d attempts (%d answered 2xx); want 3 retries for the 3 lost answers", d.Requests, all, ok)
	}
	sent := sentReports(readReportFile(t, sc.reportFile))
	stored, _ := export(t, db)
	sameReports(t, "after lost answers", sent, storedReports(stored))

	sc.transport.reset()
	sc.source.setReplay(true)
	sc.once(t, "the same cycle again")
	sc.source.setReplay(false)
	if _, all := sc.transport.count(0); all != d.Requests {
		t.Errorf("the repeated cycle took %d attempts for %d requests", all, d.Requests)
	}
	stored, _ = export(t, db)
	sameReports(t, "after the same cycle twice", sent, storedReports(stored))

	sc.clock.Advance(3 * time.Hour)
	sc.once(t, "the next cycle")
	stored, _ = export(t, db)
	both := append(append([]string(nil), sent...), sentReports(readReportFile(t, sc.reportFile))...)
	sort.Strings(both)
	sameReports(t, "after a second cycle", both, storedReports(stored))
}

// TestPostgresOutage (issue 13 §9): the receiver on PostgreSQL; while the
// database is down the receiver answers 503 and the sidecar retries; once
// it is back, everything arrives: the export holds the cycle's reports
// exactly once. An answer lost after the database is back (the request was
// committed) is retried and not stored twice.
func TestPostgresOutage(t *testing.T) {
	db := pg.NewDatabase(t) // before t.Parallel: skips without PostgreSQL
	t.Parallel()
	recv := startReceiver(t, db)
	sc := newSidecar(t, recv.URL, reporting.RetryPolicy{Attempts: 400, BaseDelay: 20 * time.Millisecond, MaxDelay: 200 * time.Millisecond})

	if err := pg.Pause(); err != nil {
		t.Fatalf("pause PostgreSQL: %v", err)
	}
	resumed := false
	defer func() {
		if !resumed {
			_ = pg.Resume()
		}
	}()
	type outcome struct {
		res reporting.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := sc.svc.RunOnce(context.Background())
		done <- outcome{res, err}
	}()
	// Resume once the sidecar has been refused a few times.
	var early *outcome
	unavailable := func() bool {
		select {
		case o := <-done:
			early = &o
			return true
		default:
		}
		n, _ := sc.transport.count(http.StatusServiceUnavailable)
		return n >= 3
	}
	ok := sc.transport.waitFor(60*time.Second, unavailable)
	if early != nil {
		t.Fatalf("the cycle ended while PostgreSQL was down: %v, %+v", early.err, early.res.Destinations)
	}
	if !ok {
		n, all := sc.transport.count(http.StatusServiceUnavailable)
		t.Fatalf("while PostgreSQL is down: %d of %d attempts answered 503 within 60s\nreceiver:\n%s", n, all, recv.Logs.String())
	}
	if n, _ := sc.transport.count(http.StatusOK); n != 0 {
		t.Errorf("%d requests answered 2xx while PostgreSQL was down", n)
	}
	// The first 2xx after the outage is lost on the way back: retried,
	// and stored once.
	sc.transport.loseAnswers(1)
	if err := pg.Resume(); err != nil {
		t.Fatalf("resume PostgreSQL: %v", err)
	}
	resumed = true
	var o outcome
	select {
	case o = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the cycle did not end within 2 minutes of PostgreSQL's return")
	}
	if o.err != nil || !o.res.Accepted() || o.res.Collected != 2 {
		t.Fatalf("the cycle: %v, accepted %t, %+v", o.err, o.res.Accepted(), o.res.Destinations)
	}
	d := o.res.Destinations[0]
	refused, all := sc.transport.count(http.StatusServiceUnavailable)
	delivered, _ := sc.transport.count(http.StatusOK)
	t.Logf("%d requests: %d attempts, %d answered 503, %d answered 2xx (one answer lost)", d.Requests, all, refused, delivered)
	if delivered != d.Requests+1 {
		t.Errorf("%d attempts answered 2xx, want %d (each request once, and the one whose answer was lost again)", delivered, d.Requests+1)
	}
	sent := sentReports(readReportFile(t, sc.reportFile))
	stored, _ := export(t, db)
	sameReports(t, "after the outage", sent, storedReports(stored))
	events := 0
	for _, r := range sent {
		events += strings.Count(r, "\n") + 1
	}
	if len(stored) != events || d.Events != events {
		t.Errorf("%d events sent (%d delivered), %d stored", events, d.Events, len(stored))
	}
}
