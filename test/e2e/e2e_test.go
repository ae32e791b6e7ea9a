// Package e2e_test runs the mim-metrics binary against a fixture MongooseIM
// cluster and a real ejabberd, with a fake Google Analytics: MongooseIM's
// own acceptance suite (service_mongoose_system_metrics_SUITE) as Go tests.
package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/test/testkit"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/test/erltest"
	"github.com/mim-metrics/mim-metrics/test/fakega"
)

// The CI property MongooseIM uses when CI=true, and its release property.
const (
	ciProperty      = "G-VB91V60SKT"
	releaseProperty = "G-B4S18X6KY5"
	// The Cluster ID in the 6.2.1 fixture (the real node's).
	fixtureClusterID = "d613125a-4f3f-431a-8a9a-24b4c5540a31"
)

var (
	bin        string
	cookie     = erltest.RandomCookie()
	cookieFile string
	mimA, mimB *erltest.Node
	workDir    string
)

func TestMain(m *testing.M) {
	erltest.RequireForMain()
	code := func() int {
		defer erltest.Cleanup()
		defer erltest.CleanupEjabberd()
		var err error
		if workDir, err = os.MkdirTemp("", "mim-e2e"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(workDir)
		if err := setup(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

func setup() error {
	var err error
	if bin, err = testkit.Build(workDir, "./cmd/mim-metrics"); err != nil {
		return err
	}
	cookieFile = filepath.Join(workDir, "cookie")
	if err := os.WriteFile(cookieFile, []byte(cookie+"\n"), 0o400); err != nil {
		return err
	}
	// The second node has generated hosts with sentinel names.
	mimA, mimB, err = erltest.StartTwoNodes("mim-6.2.1", erltest.TwoNodes{Cookie: cookie,
		B: erltest.Options{Args: []string{"-fixture_hosts", "3"}}})
	return err
}

// result is what one run of the binary did.
type result struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// run runs the binary to completion (bounded by 60 s).
func run(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(baseEnv(t), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errOut.String(), took: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run: %v", err)
	}
	return r
}

// baseEnv is a clean environment that reaches the private EPMD.
func baseEnv(t *testing.T) []string {
	return []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "ERL_EPMD_PORT=" + os.Getenv("ERL_EPMD_PORT")}
}

// base returns the flags every run uses: the cluster, the cookie, the
// fake endpoint, and private report file and state dir.
func base(t *testing.T, ga *fakega.Server) (args []string, reportFile string) {
	dir := t.TempDir()
	reportFile = filepath.Join(dir, "system_metrics_report.json")
	return []string{"--node", mimA.Name, "--cookie-file", cookieFile, "--ga-endpoint", ga.URL,
		"--report-file", reportFile, "--state-dir", filepath.Join(dir, "state"), "--log-format", "json"}, reportFile
}

var ciEnv = []string{"CI=true"}

func sentinels(t *testing.T) []string {
	out, err := erltest.Sentinels(filepath.Join("..", "fixtures"))
	if err != nil {
		t.Fatal(err)
	}
	return append(out, mimA.Name, mimB.Name, cookie)
}

func distinct(evs []fakega.Event, key func(fakega.Event) string) []string {
	set := map[string]bool{}
	for _, e := range evs {
		set[key(e)] = true
	}
	var out []string
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestReportedToGoogleAnalytics: `once` reports every node, to the CI
// property and an extra tracking id, each the full report, all with the
// cluster's one client id; the JSON file is written and parses; nothing
// private is in any request.
func TestReportedToGoogleAnalytics(t *testing.T) {
	t.Parallel()
	ga := fakega.New(t)
	args, reportFile := base(t, ga)
	r := run(t, ciEnv, append([]string{"once", "--report", "--tracking-id", "G-EXTRA7F3B:extra-secret-value-123"}, args...)...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	evs := ga.Events()
	if got := distinct(evs, func(e fakega.Event) string { return e.MeasurementID }); strings.Join(got, ",") != "G-EXTRA7F3B,"+ciProperty {
		t.Errorf("destinations %v, want the CI property and the extra id", got)
	}
	if got := distinct(evs, func(e fakega.Event) string { return e.ClientID }); len(got) != 1 || got[0] != fixtureClusterID {
		t.Errorf("client ids %v, want only the cluster's %s", got, fixtureClusterID)
	}
	per := map[string]int{}
	hosts := 0
	for _, e := range evs {
		per[e.MeasurementID]++
		if e.Name == contract.HostCount && e.MeasurementID == ciProperty {
			hosts++
		}
	}
	if per[ciProperty] != per["G-EXTRA7F3B"] || per[ciProperty] < 40 {
		t.Errorf("events per destination %v: each must get the full report of both nodes", per)
	}
	if hosts != 2 {
		t.Errorf("%d host_count events, want one per node (2)", hosts)
	}
	for _, b := range ga.Bodies() {
		for _, s := range sentinels(t) {
			if strings.Contains(string(b), s) {
				t.Errorf("a request leaks %q", s)
			}
		}
	}
	for _, rq := range ga.Requests() {
		for _, s := range sentinels(t) {
			if strings.Contains(rq.RawQuery+rq.Path, s) {
				t.Errorf("a request URL leaks %q", s)
			}
		}
	}
	// The report file: written, parses, holds both nodes' events as sent.
	raw, err := os.ReadFile(reportFile)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		ClientID string `json:"client_id"`
		Nodes    []struct {
			Node   string            `json:"node"`
			Events []json.RawMessage `json:"events"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatalf("report file does not parse: %v", err)
	}
	total := 0
	for _, n := range file.Nodes {
		total += len(n.Events)
	}
	if file.ClientID != fixtureClusterID || len(file.Nodes) != 2 || total != per[ciProperty] {
		t.Errorf("report file: client %q, %d nodes, %d events; sent %d", file.ClientID, len(file.Nodes), total, per[ciProperty])
	}
	// MongooseIM's own service runs on these nodes: warn about doubled reports.
	if !strings.Contains(r.stdout, "report = false") {
		t.Errorf("no warning that the built-in service reports too:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "MongooseIM docs") {
		t.Error("the notice was logged although --report was given")
	}
}

// TestNotReportedWhenNotAllowed: --no-report and DO_NOT_TRACK collect and
// send nothing, write nothing, log one line and exit 0.
func TestNotReportedWhenNotAllowed(t *testing.T) {
	t.Parallel()
	for name, env := range map[string][]string{"no-report": nil, "DO_NOT_TRACK": {"DO_NOT_TRACK=1"}} {
		ga := fakega.New(t)
		args, reportFile := base(t, ga)
		if name == "no-report" {
			args = append(args, "--no-report")
		}
		r := run(t, append(env, ciEnv...), append([]string{"run", "--initial-report", "0"}, args...)...)
		if r.code != 0 || r.took > 5*time.Second {
			t.Errorf("%s: exit %d after %v", name, r.code, r.took)
		}
		if n := strings.Count(strings.TrimSpace(r.stdout), "\n") + 1; n != 1 || !strings.Contains(r.stdout, "reporting is off") {
			t.Errorf("%s: want one line saying reporting is off, got:\n%s", name, r.stdout)
		}
		if name == "DO_NOT_TRACK" && !strings.Contains(r.stdout, "DO_NOT_TRACK") {
			t.Errorf("the log does not say DO_NOT_TRACK decided: %s", r.stdout)
		}
		if ga.RequestCount() != 0 {
			t.Errorf("%s: %d requests sent", name, ga.RequestCount())
		}
		if _, err := os.Stat(reportFile); !os.IsNotExist(err) {
			t.Errorf("%s: report file written: %v", name, err)
		}
	}
}

// TestPeriodicReports: `run` with millisecond intervals reports again and
// again, and SIGTERM stops it within seconds.
func TestPeriodicReports(t *testing.T) {
	t.Parallel()
	ga := fakega.New(t)
	args, _ := base(t, ga)
	cmd := exec.Command(bin, append([]string{"run", "--report", "--initial-report", "100", "--periodic-report", "400"}, args...)...)
	cmd.Env = append(baseEnv(t), ciEnv...)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() { _ = cmd.Process.Kill() }()
	cycles := func() int {
		n := 0
		for _, e := range ga.Events() {
			if e.Name == contract.HostCount && e.MeasurementID == ciProperty {
				n++
			}
		}
		return n / 2 // two nodes
	}
	if !ga.WaitFor(15*time.Second, func() bool { return cycles() >= 3 }) {
		t.Fatalf("only %d cycles reported in 15s", cycles())
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, out.String())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no exit within 5s of SIGTERM")
	}
	if !strings.Contains(out.String(), "report cycle done") {
		t.Errorf("no cycle summary in the log:\n%s", out.String())
	}
}

// TestStartupNotice: the default start logs the notice at warning level
// (it contains "MongooseIM docs", which MongooseIM's suite matches);
// --report and --no-report start silently.
func TestStartupNotice(t *testing.T) {
	t.Parallel()
	var wg sync.WaitGroup
	for _, c := range []struct {
		flag   string
		notice bool
	}{{"", true}, {"--report", false}, {"--no-report", false}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ga := fakega.New(t)
			args, _ := base(t, ga)
			if c.flag != "" {
				args = append(args, c.flag)
			}
			r := run(t, ciEnv, append([]string{"once"}, args...)...)
			notices := 0
			for _, line := range strings.Split(r.stdout, "\n") {
				if strings.Contains(line, "MongooseIM docs") {
					notices++
					if !strings.Contains(line, `"level":"warn"`) {
						t.Errorf("%q: the notice is not at warning level: %s", c.flag, line)
					}
				}
			}
			if want := map[bool]int{true: 1, false: 0}[c.notice]; notices != want {
				t.Errorf("%q: %d notices, want %d:\n%s", c.flag, notices, want, r.stdout)
			}
		}()
	}
	wg.Wait()
}

// TestEjabberd: an ejabberd cluster has no upstream property: without a
// tracking id nothing is sent and the log says so; with one, only that id
// receives the report. The preview is logged for the record.
func TestEjabberd(t *testing.T) {
	if !erltest.EjabberdAvailable() {
		t.Skip("ejabberd not installed")
	}
	t.Parallel()
	ej, err := erltest.StartEjabberd(erltest.EjabberdOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ejCookie := filepath.Join(t.TempDir(), "cookie")
	if err := os.WriteFile(ejCookie, []byte(ej.Cookie()), 0o400); err != nil {
		t.Fatal(err)
	}
	ga := fakega.New(t)
	dir := t.TempDir()
	args := []string{"--node", ej.Name(), "--cookie-file", ejCookie, "--ga-endpoint", ga.URL,
		"--report-file", filepath.Join(dir, "report.json"), "--state-dir", filepath.Join(dir, "state"), "--report"}
	r := run(t, ciEnv, append([]string{"once"}, args...)...)
	if r.code != 0 || ga.RequestCount() != 0 {
		t.Errorf("no tracking id: exit %d, %d requests; want 0 and none\n%s%s", r.code, ga.RequestCount(), r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "nothing is sent") {
		t.Errorf("the log does not say nothing is sent:\n%s", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "report.json")); err != nil {
		t.Errorf("report file: %v", err)
	}
	r = run(t, ciEnv, append([]string{"once", "--tracking-id", "G-OWN7F3B:own-secret-value-1234"}, args...)...)
	if got := ga.MeasurementIDs(); r.code != 0 || len(got) != 1 || got[0] != "G-OWN7F3B" {
		t.Errorf("with a tracking id: exit %d, destinations %v\n%s%s", r.code, got, r.stdout, r.stderr)
	}
	for _, b := range ga.Bodies() {
		for _, s := range []string{erltest.EjabberdHost1, erltest.EjabberdHost2, erltest.EjabberdCustomModule, "sentinel", ej.Name()} {
			if strings.Contains(string(b), s) {
				t.Errorf("a request leaks %q", s)
			}
		}
	}
	p := run(t, nil, append([]string{"preview", "--tracking-id", "G-OWN7F3B:own-secret-value-1234"}, args...)...)
	if p.code != 0 || strings.Contains(p.stdout, "own-secret-value-1234") {
		t.Errorf("preview: exit %d, or the secret shows:\n%s%s", p.code, p.stdout, p.stderr)
	}
	t.Logf("preview against ejabberd:\n%s", p.stdout)
}
