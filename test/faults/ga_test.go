package faults_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
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
	"github.com/mim-metrics/mim-metrics/reporting"
	"github.com/mim-metrics/mim-metrics/test/fakega"
	"github.com/mim-metrics/mim-metrics/test/testkit"
)

// staticSource reports two MongooseIM nodes with a few valid events and
// counts the cycles that asked it.
type staticSource struct {
	mu     sync.Mutex
	cycles int
}

func (s *staticSource) Collect(context.Context) ([]metrics.NodeReport, error) {
	s.mu.Lock()
	s.cycles++
	s.mu.Unlock()
	var out []metrics.NodeReport
	for _, n := range []string{"mongooseim@a", "mongooseim@b"} {
		out = append(out, metrics.NodeReport{Node: n, Server: metrics.MongooseIM, Version: "6.4.0", Events: []contract.Event{
			{Name: contract.HostCount, Params: map[string]any{"value": int64(1)}},
			{Name: contract.Cluster, Params: map[string]any{"version": "6.4.0", "node_number": int64(2), "uptime": "0000-01:00:00"}},
			{Name: contract.ModuleWithOpt, Params: map[string]any{"module": "mod_muc", "backend": "mnesia"}},
		}})
	}
	return out, nil
}

func (s *staticSource) ClusterID(context.Context) (string, error) {
	return "5b4b0a4e-3f0e-4c41-9a57-6f5f1a1f0c3d", nil
}

func (s *staticSource) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cycles
}

// countingTransport counts HTTP attempts and the most in flight at once.
type countingTransport struct {
	rt http.RoundTripper

	mu                    sync.Mutex
	inFlight, most, total int
	inFlightBy, mostBy    map[string]int // by measurement id
}

func newCountingTransport(rt http.RoundTripper) *countingTransport {
	return &countingTransport{rt: rt, inFlightBy: map[string]int{}, mostBy: map[string]int{}}
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	id := r.URL.Query().Get("measurement_id")
	c.mu.Lock()
	c.inFlight++
	c.total++
	c.inFlightBy[id]++
	c.most = max(c.most, c.inFlight)
	c.mostBy[id] = max(c.mostBy[id], c.inFlightBy[id])
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.inFlight--
		c.inFlightBy[id]--
		c.mu.Unlock()
	}()
	return c.rt.RoundTrip(r)
}

func (c *countingTransport) stats() (inFlight, most, total int, mostBy map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	mb := map[string]int{}
	for k, v := range c.mostBy {
		mb[k] = v
	}
	return c.inFlight, c.most, c.total, mb
}

// closedPort returns a loopback URL nothing listens on.
func closedPort(t *testing.T) string {
	port, err := testkit.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("http://127.0.0.1:%d", port)
}

var gaDestinations = []string{"G-FAULTS1:faults-secret-0123456789", "G-FAULTS2:faults-secret-9876543210"}

// TestGAFaults (case 3): whatever the Google Analytics endpoint does
// (refuse connections, 500, 400, answer after the period, accept and
// never answer, drop the connection), a schedule of cycles keeps its
// rhythm: attempts are bounded by the retry policy, no request outlives
// its cycle and none piles up behind another, the report file is written
// every cycle, and each cycle logs each destination's outcome exactly once.
func TestGAFaults(t *testing.T) {
	t.Parallel()
	// The schedule runs on a manual clock: each tick comes when the test
	// has seen the cycle before it finish (or, where the endpoint never
	// answers, send), however slow the machine. The period is an hour of
	// that clock, so no real deadline cuts a cycle short.
	const period = time.Hour
	retry := reporting.RetryPolicy{Attempts: 3, BaseDelay: 20 * time.Millisecond, MaxDelay: 40 * time.Millisecond}
	cases := []struct {
		name    string
		beh     *fakega.Behavior // nil: connections are refused
		reqTO   time.Duration
		outcome string
		// attempts per destination per cycle: exactly, or at most when
		// the deadline may cut the retries short
		attempts  int
		atMost    bool
		errSubstr string
	}{
		{name: "refused", outcome: "failed", attempts: 3, errSubstr: "connection refused"},
		{name: "500", beh: ptr(fakega.Status(500)), outcome: "failed", attempts: 3, errSubstr: "500"},
		{name: "400", beh: ptr(fakega.Status(400)), outcome: "rejected", attempts: 2, errSubstr: "400"}, // one per request, never retried
		{name: "closed", beh: ptr(fakega.CloseConnection()), outcome: "failed", attempts: 3},
		{name: "late", beh: ptr(fakega.Delay(time.Hour, 200)), reqTO: time.Minute, outcome: "failed", attempts: 1, errSubstr: "no time left in this reporting period"},
		{name: "hang", beh: ptr(fakega.Hang()), reqTO: 100 * time.Millisecond, outcome: "failed", attempts: 3, atMost: true, errSubstr: "no answer within"},
		{name: "hang-past-period", beh: ptr(fakega.Hang()), reqTO: time.Minute, outcome: "failed", attempts: 1, errSubstr: "no time left in this reporting period"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			endpoint := closedPort(t)
			var ga *fakega.Server
			if c.beh != nil {
				ga = fakega.New(t)
				ga.SetDefault(*c.beh)
				endpoint = ga.URL
			}
			src := &staticSource{}
			core, logs := observer.New(zap.InfoLevel)
			tr := newCountingTransport(reporting.NewHTTPClient().Transport)
			client := reporting.NewHTTPClient()
			client.Transport = tr
			dir := t.TempDir()
			cfg := reporting.DefaultConfig()
			cfg.Source = src
			cfg.Consent = reporting.Consent{Mode: reporting.ModeReport, Reason: "--report"}
			cfg.Targets = reporting.Targets{Upstream: false}
			for _, id := range gaDestinations {
				d, err := reporting.ParseTrackingID(id)
				if err != nil {
					t.Fatal(err)
				}
				cfg.Targets.Own = append(cfg.Targets.Own, d)
			}
			cfg.Endpoint = endpoint
			cfg.ReportFile = filepath.Join(dir, "report.json")
			cfg.StateDir = filepath.Join(dir, "state")
			cfg.InitialDelay, cfg.Period = 0, period
			cfg.Retry = retry
			cfg.RequestTimeout = c.reqTO
			cfg.HTTPClient = client
			cfg.Logger = zap.New(core)
			clock := testkit.NewManualClock[reporting.Timer](time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC))
			cfg.Clock = clock
			svc, err := reporting.NewService(cfg)
			if err != nil {
				t.Fatal(err)
			}
			// Four ticks: 0, P, 2P, 3P; then stop (cancelling the fourth
			// cycle's sends where they hang). A tick comes once the cycle
			// before has finished, or, with an endpoint that holds the
			// request, once each destination's request is out.
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			runDone := make(chan error, 1)
			go func() { runDone <- svc.Run(ctx) }()
			holds := c.errSubstr == "no time left in this reporting period"
			for k := 1; k <= 4; k++ {
				if k > 1 {
					clock.Advance(period)
				}
				waitFor(t, fmt.Sprintf("cycle %d", k), func() bool {
					if holds {
						// This cycle's requests are out, the cut ones unwound.
						inFlight, _, total, _ := tr.stats()
						return total >= k*len(gaDestinations) && inFlight == len(gaDestinations)
					}
					return logs.FilterMessageSnippet("report cycle done").Len() >= k
				})
			}
			cancel()
			stopped := time.Now()
			select {
			case err := <-runDone:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Run did not return within 5 s of its context ending")
			}
			if d := time.Since(stopped); d > 3*time.Second {
				t.Errorf("Run took %v to return after its context ended", d)
			}
			cycles := src.count()
			if cycles != 4 {
				t.Fatalf("%d cycles in 4 ticks; the schedule lost its rhythm", cycles)
			}

			// Nothing piles up: per destination at most one request in
			// flight at a time (two for the moment a cancelled attempt takes
			// to unwind), and none left once Run has returned.
			inFlight, most, total, mostBy := tr.stats()
			if inFlight != 0 {
				t.Errorf("%d requests still in flight after Run returned", inFlight)
			}
			for id, m := range mostBy {
				if m > 2 {
					t.Errorf("%s: %d requests in flight at once: requests pile up", id, m)
				}
			}
			if most > 2*len(gaDestinations) {
				t.Errorf("%d requests in flight at once", most)
			}
			// Bounded retries.
			if max := cycles * len(gaDestinations) * c.attempts; total > max || !c.atMost && total < (cycles-1)*len(gaDestinations)*c.attempts {
				t.Errorf("%d HTTP attempts in %d cycles; want %d per destination and cycle", total, cycles, c.attempts)
			}
			if ga != nil && ga.RequestCount() > total {
				t.Errorf("the server saw %d requests, the client made %d", ga.RequestCount(), total)
			}

			// One outcome line per destination and cycle, and one summary
			// per cycle saying the file was written.
			per := map[string]int{}
			summaries, explained := 0, 0
			for _, e := range logs.All() {
				switch {
				case strings.HasPrefix(e.Message, "report accepted"), strings.HasPrefix(e.Message, "report rejected"), strings.HasPrefix(e.Message, "report failed"):
					d := fmt.Sprint(e.ContextMap()["destination"])
					per[d]++
					want := map[string]string{"failed": "report failed", "rejected": "report rejected"}[c.outcome]
					if e.Message != want {
						t.Errorf("outcome %q, want %q", e.Message, want)
					}
					// Every cycle's error says what went wrong; only the
					// last one may instead say that it was cut short.
					switch msg := fmt.Sprint(e.ContextMap()["error"]); {
					case strings.Contains(msg, c.errSubstr):
						explained++
					case !strings.Contains(msg, "stopped: cancelled"):
						t.Errorf("outcome error %q does not say %q", msg, c.errSubstr)
					}
					if strings.Contains(fmt.Sprint(e.ContextMap()), "faults-secret") {
						t.Errorf("the API secret is logged: %v", e.ContextMap())
					}
				case strings.HasPrefix(e.Message, "report cycle done"):
					summaries++
					if !strings.Contains(e.Message, "the report file was written anyway") {
						t.Errorf("cycle summary: %s %v", e.Message, e.ContextMap())
					}
				}
			}
			if summaries != cycles {
				t.Errorf("%d cycle summaries for %d cycles:\n%s", summaries, cycles, strings.Join(messages(logs, zapcore.DebugLevel), "\n"))
			}
			if explained < (cycles-1)*len(gaDestinations) {
				t.Errorf("only %d outcome lines of %d cycles say %q", explained, cycles, c.errSubstr)
			}
			if len(per) != len(gaDestinations) {
				t.Errorf("outcomes logged for %d destinations, want %d: %v", len(per), len(gaDestinations), per)
			}
			for d, n := range per {
				if n != cycles {
					t.Errorf("%s: outcome logged %d times in %d cycles, want once per cycle", d, n, cycles)
				}
			}
			rep := readReport(t, cfg.ReportFile)
			if len(rep.Destinations) != len(gaDestinations) {
				t.Fatalf("report file lists %d destinations", len(rep.Destinations))
			}
			for _, d := range rep.Destinations {
				if d.Outcome != c.outcome {
					t.Errorf("report file: %s %s, want %s", d.Destination, d.Outcome, c.outcome)
				}
				if strings.Contains(d.Error, "faults-secret") {
					t.Errorf("report file holds the API secret: %s", d.Error)
				}
			}
			if leftovers, _ := filepath.Glob(filepath.Join(dir, ".report.json.tmp-*")); len(leftovers) != 0 {
				t.Errorf("temporary files left behind: %v", leftovers)
			}
			if _, err := os.Stat(cfg.ReportFile); err != nil {
				t.Error(err)
			}
			t.Logf("%d cycles, %d attempts, at most %d in flight", cycles, total, most)
		})
	}
}

func ptr[T any](v T) *T { return &v }

// waitFor polls cond until it holds, failing the test after a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within a minute", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
