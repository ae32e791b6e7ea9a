package reporting

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/test/fakega"
)

// system_metrics_are_not_reported_when_not_allowed
func TestNothingReportedWhenNotAllowed(t *testing.T) {
	t.Parallel()
	for name, consent := range map[string]Consent{
		"no_report":                       ResolveConsent(false, true, env(nil)),
		"DO_NOT_TRACK=1":                  ResolveConsent(false, false, env(map[string]string{"DO_NOT_TRACK": "1"})),
		"DO_NOT_TRACK=true with --report": ResolveConsent(true, false, env(map[string]string{"DO_NOT_TRACK": "true"})),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ga := fakega.New(t)
			log, logs := observed()
			src := &fakeSource{clusterID: "cid", reports: []metrics.NodeReport{mimReport("mim@h")}}
			cfg := testConfig(t, src, ga.URL, log)
			cfg.Consent = consent
			s := newService(t, cfg)

			start := time.Now()
			if err := s.Run(context.Background()); err != nil {
				t.Errorf("Run: %v", err)
			}
			if took := time.Since(start); took > time.Second {
				t.Errorf("Run took %v, want an immediate return", took)
			}
			if _, err := s.RunOnce(context.Background()); !errors.Is(err, errReportingOff) {
				t.Errorf("RunOnce error = %v, want errReportingOff", err)
			}
			if n := len(src.collectStarts()); n != 0 {
				t.Errorf("Collect called %d times", n)
			}
			if n := ga.RequestCount(); n != 0 {
				t.Errorf("%d requests sent", n)
			}
			for _, p := range []string{cfg.ReportFile, cfg.StateDir} {
				if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s exists (err %v); nothing may be written", p, err)
				}
			}
			if logs.Len() != 0 {
				t.Errorf("the service logged (the caller announces the consent):\n%s", logText(logs))
			}
		})
	}
}

// periodic_report_available: with millisecond intervals, reports repeat.
func TestPeriodicReportsWithMillisecondIntervals(t *testing.T) {
	t.Parallel()
	ga := fakega.New(t)
	log, _ := observed()
	src := &fakeSource{clusterID: "cid", reports: []metrics.NodeReport{mimReport("mim@h")}}
	cfg := testConfig(t, src, ga.URL, log)
	cfg.InitialDelay = 10 * time.Millisecond
	cfg.Period = 20 * time.Millisecond
	stop := runService(t, newService(t, cfg), 2*time.Second)
	if !ga.WaitFor(10*time.Second, func() bool { return len(ga.Events()) >= 3*len(mimEvents()) }) {
		t.Fatalf("only %d events arrived, want at least three full reports", len(ga.Events()))
	}
	stop()
	if n := ga.RequestCount(); n < 3 {
		t.Errorf("%d requests", n)
	}
}

// The schedule is a fixed rate, as MongooseIM's: the first report after the
// initial delay, then one every period from there, however long a cycle
// takes (the next tick is armed from the schedule, not from the end of the
// cycle).
func TestScheduleIsFixedRate(t *testing.T) {
	t.Parallel()
	sch := runSchedule(t, 5*time.Minute, 3*time.Hour)
	t0, clock, src, ga := sch.t0, sch.clock, sch.src, sch.ga

	clock.WaitArmed(t)
	clock.Advance(5*time.Minute - time.Second)
	src.noStart(t)
	clock.Advance(time.Second)
	if s := src.nextStart(t); !s.at.Equal(t0.Add(5 * time.Minute)) {
		t.Errorf("first cycle at %v, want after the initial delay", s.at.Sub(t0))
	}
	clock.WaitArmed(t)
	clock.Advance(time.Hour) // the cycle takes an hour
	src.releaseOne(t)
	if !ga.WaitFor(5*time.Second, func() bool { return ga.RequestCount() == 1 }) {
		t.Fatal("first report not sent")
	}
	clock.Advance(2*time.Hour - time.Second)
	src.noStart(t)
	clock.Advance(time.Second)
	if s := src.nextStart(t); !s.at.Equal(t0.Add(3*time.Hour + 5*time.Minute)) {
		t.Errorf("second cycle at %v, want 3h05m (fixed rate)", s.at.Sub(t0))
	}
	clock.WaitArmed(t)
	src.releaseOne(t)
	clock.Advance(3 * time.Hour)
	if s := src.nextStart(t); !s.at.Equal(t0.Add(6*time.Hour + 5*time.Minute)) {
		t.Errorf("third cycle at %v, want 6h05m", s.at.Sub(t0))
	}
}

// A cycle still running at the next tick is cancelled and logged, and the
// new one starts on time.
func TestStuckCycleIsCancelledAtNextTick(t *testing.T) {
	t.Parallel()
	sch := runSchedule(t, 0, time.Hour)
	t0, clock, src, logs := sch.t0, sch.clock, sch.src, sch.logs

	clock.WaitArmed(t)
	first := src.nextStart(t)
	clock.WaitArmed(t)
	clock.Advance(time.Hour)
	second := src.nextStart(t)
	if !second.at.Equal(t0.Add(time.Hour)) {
		t.Errorf("second cycle at %v, want 1h", second.at.Sub(t0))
	}
	if first.ctx.Err() == nil {
		t.Error("the stuck cycle was not cancelled")
	}
	if second.ctx.Err() != nil {
		t.Error("the new cycle starts cancelled")
	}
	if len(logs.FilterMessageSnippet("still running at the next tick").All()) != 1 {
		t.Errorf("no log about the cancelled cycle:\n%s", logText(logs))
	}
}

// Ticks missed entirely (a suspended machine) are skipped, not made up in a
// burst; the schedule stays on its grid.
func TestMissedTicksAreSkipped(t *testing.T) {
	t.Parallel()
	sch := runSchedule(t, 0, 3*time.Hour)
	t0, clock, src, ga, logs := sch.t0, sch.clock, sch.src, sch.ga, sch.logs

	clock.WaitArmed(t)
	src.nextStart(t)
	clock.WaitArmed(t)
	src.releaseOne(t)
	if !ga.WaitFor(5*time.Second, func() bool { return ga.RequestCount() == 1 }) {
		t.Fatal("first report not sent")
	}
	clock.Advance(10 * time.Hour)
	if s := src.nextStart(t); !s.at.Equal(t0.Add(10 * time.Hour)) {
		t.Errorf("late cycle at %v", s.at.Sub(t0))
	}
	clock.WaitArmed(t)
	src.releaseOne(t)
	src.noStart(t)
	clock.Advance(2*time.Hour - time.Second) // the grid's next tick is 12h
	src.noStart(t)
	clock.Advance(time.Second)
	if s := src.nextStart(t); !s.at.Equal(t0.Add(12 * time.Hour)) {
		t.Errorf("next cycle at %v, want 12h", s.at.Sub(t0))
	}
	if len(logs.FilterMessageSnippet("ticks missed").All()) != 1 {
		t.Errorf("skipped ticks not logged:\n%s", logText(logs))
	}
}

// all_clustered_mongooses_report_the_same_client_id
func TestSameClientIDFromEveryNode(t *testing.T) {
	t.Parallel()
	ga := fakega.New(t)
	log, _ := observed()
	src := &fakeSource{clusterID: "ephemeral-0f9c3a1e-6d2b-4c8e-9a51-3b7e2d4c5f60",
		reports: []metrics.NodeReport{mimReport("mim@host1"), mimReport("mim2@host2"), mimReport("mim3@host3")}}
	res, err := newService(t, testConfig(t, src, ga.URL, log)).RunOnce(context.Background())
	if err != nil || !res.Accepted() {
		t.Fatalf("RunOnce = %+v, %v", res, err)
	}
	if got := ga.ClientIDs(); !slices.Equal(got, []string{src.clusterID}) {
		t.Errorf("client ids %v, want just %s", got, src.clusterID)
	}
	if got := ga.RequestCount(); got != 3 {
		t.Errorf("%d requests, want one per node", got)
	}
	if got := len(ga.Events()); got != 3*len(mimEvents()) {
		t.Errorf("%d events, want %d", got, 3*len(mimEvents()))
	}
}

// system_metrics_are_reported_to_google_analytics_when_mim_starts and
// system_metrics_are_reported_to_configurable_google_analytics.
func TestDestinations(t *testing.T) {
	t.Parallel()
	extra := "G-EXTRA123:ExtraSecret"
	tests := []struct {
		name    string
		env     map[string]string
		own     []string
		server  metrics.Server
		wantIDs []string
	}{
		{name: "upstream", server: metrics.MongooseIM, wantIDs: []string{upstreamMeasurementID}},
		{name: "upstream CI", env: map[string]string{"CI": "true"}, server: metrics.MongooseIM, wantIDs: []string{upstreamCIMeasurementID}},
		{name: "extra tracking id", server: metrics.MongooseIM, own: []string{extra}, wantIDs: []string{upstreamMeasurementID, "G-EXTRA123"}},
		{name: "ejabberd", server: metrics.Ejabberd, own: []string{extra}, wantIDs: []string{"G-EXTRA123"}},
		{name: "ejabberd without own ids", server: metrics.Ejabberd},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ga := fakega.New(t)
			log, logs := observed()
			var own []Destination
			for _, s := range tc.own {
				own = append(own, mustDest(t, s))
			}
			r := mimReport("node@h")
			r.Server = tc.server
			src := &fakeSource{clusterID: "cid", reports: []metrics.NodeReport{r}}
			cfg := testConfig(t, src, ga.URL, log)
			cfg.Targets = NewTargets(true, own, env(tc.env))
			res, err := newService(t, cfg).RunOnce(context.Background())
			if err != nil || !res.Accepted() {
				t.Fatalf("RunOnce = %+v, %v", res, err)
			}
			if got := ga.MeasurementIDs(); !slices.Equal(got, tc.wantIDs) {
				t.Errorf("measurement ids %v, want %v", got, tc.wantIDs)
			}
			// Every destination gets the full report.
			for _, id := range tc.wantIDs {
				n := 0
				for _, e := range ga.Events() {
					if e.MeasurementID == id {
						n++
					}
				}
				if n != len(mimEvents()) {
					t.Errorf("%s got %d events, want %d", id, n, len(mimEvents()))
				}
			}
			if got := ga.ClientIDs(); len(tc.wantIDs) > 0 && !slices.Equal(got, []string{"cid"}) {
				t.Errorf("client ids %v", got)
			}
			if len(tc.wantIDs) == 0 {
				if _, err := os.Stat(cfg.ReportFile); err != nil {
					t.Errorf("the report file must still be written: %v", err)
				}
				if !strings.Contains(logText(logs), "nothing is sent") {
					t.Errorf("the log does not say nothing is sent:\n%s", logText(logs))
				}
			}
		})
	}
}

func TestUpstreamCanBeSwitchedOff(t *testing.T) {
	t.Parallel()
	ga := fakega.New(t)
	log, logs := observed()
	cfg := testConfig(t, &fakeSource{clusterID: "cid", reports: []metrics.NodeReport{mimReport("mim@h")}}, ga.URL, log)
	cfg.Targets = NewTargets(false, nil, env(nil))
	res, err := newService(t, cfg).RunOnce(context.Background())
	if err != nil || len(res.Destinations) != 0 || !res.Accepted() {
		t.Fatalf("RunOnce = %+v, %v", res, err)
	}
	if ga.RequestCount() != 0 {
		t.Error("sent with --upstream=false and no tracking ids")
	}
	if !strings.Contains(logText(logs), "--upstream=false") {
		t.Errorf("log does not explain:\n%s", logText(logs))
	}
}

// A server that never answers: each cycle is bounded by the period, so the
// following cycles still run, and cancellation stops everything fast.
func TestHangingServerDoesNotBlockTheSchedule(t *testing.T) {
	t.Parallel()
	ga := fakega.New(t)
	ga.SetDefault(fakega.Hang())
	log, logs := observed()
	src := &fakeSource{clusterID: "cid", reports: []metrics.NodeReport{mimReport("mim@h")}}
	cfg := testConfig(t, src, ga.URL, log)
	cfg.Period = 100 * time.Millisecond
	cfg.RequestTimeout = time.Minute // only the period bounds a cycle
	stop := runService(t, newService(t, cfg), time.Second)
	// Were the schedule blocked by the hanging request, a single cycle
	// would run for a minute.
	if !ga.WaitFor(10*time.Second, func() bool { return len(src.collectStarts()) >= 3 && ga.RequestCount() >= 3 }) {
		t.Fatalf("only %d cycles started", len(src.collectStarts()))
	}
	stopped := time.Now()
	stop()
	if took := time.Since(stopped); took > time.Second {
		t.Errorf("stopping took %v", took)
	}
	text := logText(logs)
	if !strings.Contains(text, "report failed") && !strings.Contains(text, "still running at the next tick") {
		t.Errorf("the failure was not logged:\n%s", text)
	}
	// The report file is written even though nothing was delivered.
	if !ga.WaitFor(5*time.Second, func() bool { _, err := os.Stat(cfg.ReportFile); return err == nil }) {
		t.Error("no report file")
	}
}

func TestCycleErrors(t *testing.T) {
	t.Parallel()
	ga := fakega.New(t)
	log, logs := observed()
	src := &fakeSource{clusterID: "cid", collectErr: errors.New("no route to node")}
	cfg := testConfig(t, src, ga.URL, log)
	svc := newService(t, cfg)
	if _, err := svc.RunOnce(context.Background()); err == nil || !strings.Contains(err.Error(), "no route to node") {
		t.Errorf("RunOnce error = %v", err)
	}

	down := metrics.NodeReport{Node: "mim2@h", Err: errors.New("nodedown")}
	src.mu.Lock()
	src.collectErr, src.reports = nil, []metrics.NodeReport{down}
	src.mu.Unlock()
	if _, err := svc.RunOnce(context.Background()); err == nil || !strings.Contains(err.Error(), "nodedown") {
		t.Errorf("RunOnce error = %v, want the node error", err)
	}
	if _, err := os.Stat(cfg.ReportFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("report file written for an empty report (%v)", err)
	}

	// One node down, one up: the up one is reported.
	src.mu.Lock()
	src.reports = []metrics.NodeReport{down, mimReport("mim@h")}
	src.mu.Unlock()
	res, err := svc.RunOnce(context.Background())
	if err != nil || res.Nodes != 2 || res.Collected != 1 || !res.Accepted() {
		t.Errorf("RunOnce = %+v, %v", res, err)
	}
	if ga.RequestCount() != 1 {
		t.Errorf("%d requests, want 1", ga.RequestCount())
	}
	if !strings.Contains(logText(logs), "node could not be collected") {
		t.Errorf("the down node is not logged:\n%s", logText(logs))
	}
}

func TestNewServiceChecksConfig(t *testing.T) {
	t.Parallel()
	src := &fakeSource{}
	base := func() Config {
		c := DefaultConfig()
		c.Source, c.StateDir = src, t.TempDir()
		return c
	}
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string
	}{
		{"defaults", func(*Config) {}, ""},
		{"no source", func(c *Config) { c.Source = nil }, "no source"},
		{"no state dir", func(c *Config) { c.StateDir = "" }, "state directory"},
		{"zero period", func(c *Config) { c.Period = 0 }, "period"},
		{"negative delay", func(c *Config) { c.InitialDelay = -time.Second }, "initial delay"},
		{"bad endpoint", func(c *Config) { c.Endpoint = "ga.example" }, "endpoint"},
		{"bad own id", func(c *Config) { c.Targets.Own = []Destination{{Protocol: UA, ID: "UA-X"}} }, "UA-XXXX-Y"},
	}
	for _, tc := range tests {
		c := base()
		tc.edit(&c)
		_, err := NewService(c)
		if (tc.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: NewService error = %v, want %q", tc.name, err, tc.wantErr)
		}
	}
	if c := DefaultConfig(); c.InitialDelay != 5*time.Minute || c.Period != 3*time.Hour || c.Endpoint != "https://www.google-analytics.com" ||
		c.ReportFile != "./system_metrics_report.json" || !c.Targets.Upstream {
		t.Errorf("DefaultConfig = %+v", c)
	}
}

func TestParseInterval(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"5m", 5 * time.Minute, false},
		{"3h", 3 * time.Hour, false},
		{"100ms", 100 * time.Millisecond, false},
		{"1h30m", 90 * time.Minute, false},
		{"300000", 5 * time.Minute, false},
		{"10_800_000", 3 * time.Hour, false},
		{"100", 100 * time.Millisecond, false},
		{"0", 0, false},
		{"0s", 0, false},
		{"-1", 0, true},
		{"-5m", 0, true},
		{"forever", 0, true},
		{"", 0, true},
		{"5 minutes", 0, true},
		{"99999999999999999999", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseInterval(tc.in)
		if tc.wantErr {
			if err == nil || !strings.Contains(err.Error(), `"`+tc.in+`"`) {
				t.Errorf("ParseInterval(%q) = %v, %v; want an error naming the value", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseInterval(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestReportFilePathDefaultsAndStateDirUse(t *testing.T) {
	t.Parallel()
	ga := fakega.New(t)
	log, _ := observed()
	cfg := testConfig(t, &fakeSource{clusterID: "cid", reports: []metrics.NodeReport{mimReport("mim@h")}}, ga.URL, log)
	if _, err := newService(t, cfg).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	// With the cluster's own id, no state is written.
	if _, err := os.Stat(filepath.Join(cfg.StateDir, "cluster_id")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cluster_id state written although the cluster has an id (%v)", err)
	}
}
