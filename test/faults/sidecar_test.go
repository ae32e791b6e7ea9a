package faults_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/node"
	"github.com/mim-metrics/mim-metrics/reporting"
)

// sidecarOptions configures an in-process sidecar.
type sidecarOptions struct {
	seeds    []string
	cookie   string
	discover bool
	endpoint string   // the fake GA's URL
	tracking []string // own tracking ids; upstream is off
	period   time.Duration
	initial  time.Duration
	timeout  time.Duration // per collection (--timeout); default 10 s
	retry    reporting.RetryPolicy
	reqTO    time.Duration // per HTTP attempt
	logger   *zap.Logger   // default: an observer at info level
	wrap     func(metrics.Caller) metrics.Caller
	source   func(reporting.Source) reporting.Source // wraps the collector
}

// sidecar is the program's parts, wired as cmd/mim-metrics wires them.
type sidecar struct {
	cl         *node.Cluster
	col        *metrics.Collector
	svc        *reporting.Service
	logs       *observer.ObservedLogs // nil with a custom logger
	reportFile string
	stateDir   string
}

func newSidecar(t testing.TB, o sidecarOptions) *sidecar {
	t.Helper()
	cl, err := node.Start(context.Background(), node.Options{Seeds: o.seeds, Cookie: o.cookie, Discover: o.discover})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	s := &sidecar{cl: cl}
	log := o.logger
	if log == nil {
		core, logs := observer.New(zap.InfoLevel)
		log, s.logs = zap.New(core), logs
	}
	var caller metrics.Caller = cl
	if o.wrap != nil {
		caller = o.wrap(cl)
	}
	s.col = metrics.NewCollector(caller, log)
	dir := t.TempDir()
	s.reportFile = filepath.Join(dir, "system_metrics_report.json")
	s.stateDir = filepath.Join(dir, "state")
	if o.timeout == 0 {
		o.timeout = 10 * time.Second
	}
	cfg := reporting.DefaultConfig()
	cfg.Source = reporting.WithTimeout(s.col, o.timeout)
	if o.source != nil {
		cfg.Source = o.source(cfg.Source)
	}
	cfg.Consent = reporting.Consent{Mode: reporting.ModeReport, Reason: "--report"}
	var own []reporting.Destination
	for _, id := range o.tracking {
		d, err := reporting.ParseTrackingID(id)
		if err != nil {
			t.Fatal(err)
		}
		own = append(own, d)
	}
	cfg.Targets = reporting.Targets{Upstream: false, Own: own}
	if o.endpoint != "" {
		cfg.Endpoint = o.endpoint
	}
	cfg.ReportFile = s.reportFile
	cfg.StateDir = s.stateDir
	cfg.InitialDelay = o.initial
	cfg.Period = o.period
	if cfg.Period == 0 {
		cfg.Period = time.Hour
	}
	cfg.Retry = o.retry
	cfg.RequestTimeout = o.reqTO
	cfg.Logger = log
	if err := reporting.CheckStateDir(s.stateDir); err != nil {
		t.Fatal(err)
	}
	s.svc, err = reporting.NewService(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fileReport is the part of the report file the tests read.
type fileReport struct {
	ClientID string `json:"client_id"`
	Nodes    []struct {
		Node   string            `json:"node"`
		Error  string            `json:"error"`
		Events []json.RawMessage `json:"events"`
	} `json:"nodes"`
	Destinations []struct {
		Destination string `json:"destination"`
		Outcome     string `json:"outcome"`
		Attempts    int    `json:"attempts"`
		Error       string `json:"error"`
	} `json:"destinations"`
}

func readReport(t testing.TB, path string) fileReport {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("report file: %v", err)
	}
	var r fileReport
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("report file is not JSON: %v\n%s", err, b)
	}
	return r
}

// collected returns the nodes of a report file with events and those with
// an error.
func (r fileReport) collected() (ok []string, failed map[string]string) {
	failed = map[string]string{}
	for _, n := range r.Nodes {
		if n.Error != "" {
			failed[n.Node] = n.Error
			continue
		}
		if len(n.Events) > 0 {
			ok = append(ok, n.Node)
		}
	}
	return ok, failed
}

// messages returns the logged messages at level l or above, with the
// "node" field when there is one, one string each.
func messages(logs *observer.ObservedLogs, l zapcore.Level) []string {
	var out []string
	for _, e := range logs.All() {
		if e.Level < l {
			continue
		}
		s := e.Message
		if n, ok := e.ContextMap()["node"]; ok {
			s += fmt.Sprintf(" [node %v]", n)
		}
		if er, ok := e.ContextMap()["error"]; ok {
			s += fmt.Sprintf(" [%v]", er)
		}
		out = append(out, s)
	}
	return out
}

// countingCore is a zap core that counts entries by level and message and
// keeps only the last few warnings: a logger for long runs that does not
// grow with them.
type countingCore struct {
	zapcore.LevelEnabler
	st     *countingState
	fields []zapcore.Field
}

type countingState struct {
	mu     sync.Mutex
	counts map[string]int // "LEVEL message"
	recent []string       // the last warnings and errors, with their fields
}

func newCountingCore() *countingCore {
	return &countingCore{LevelEnabler: zapcore.DebugLevel, st: &countingState{counts: map[string]int{}}}
}

func (c *countingCore) With(fs []zapcore.Field) zapcore.Core {
	return &countingCore{LevelEnabler: c.LevelEnabler, st: c.st, fields: append(append([]zapcore.Field(nil), c.fields...), fs...)}
}

func (c *countingCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *countingCore) Write(e zapcore.Entry, fs []zapcore.Field) error {
	key := e.Level.CapitalString() + " " + e.Message
	c.st.mu.Lock()
	defer c.st.mu.Unlock()
	c.st.counts[key]++
	if e.Level >= zapcore.WarnLevel {
		enc := zapcore.NewMapObjectEncoder()
		for _, f := range append(append([]zapcore.Field(nil), c.fields...), fs...) {
			f.AddTo(enc)
		}
		c.st.recent = append(c.st.recent, fmt.Sprintf("%s %v", key, enc.Fields))
		if len(c.st.recent) > 50 {
			c.st.recent = append(c.st.recent[:0:0], c.st.recent[len(c.st.recent)-50:]...)
		}
	}
	return nil
}

func (c *countingCore) Sync() error { return nil }

// count returns how many entries had a message starting with prefix (any
// level, or "WARN "/"ERROR " etc. as part of prefix).
func (c *countingCore) count(prefix string) int {
	c.st.mu.Lock()
	defer c.st.mu.Unlock()
	n := 0
	for k, v := range c.st.counts {
		if strings.HasPrefix(k, prefix) {
			n += v
		}
	}
	return n
}

func (c *countingCore) summary() string {
	c.st.mu.Lock()
	defer c.st.mu.Unlock()
	var b strings.Builder
	for k, v := range c.st.counts {
		fmt.Fprintf(&b, "  %6d × %s\n", v, k)
	}
	return b.String()
}
