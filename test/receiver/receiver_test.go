// Package receiver_test runs the sidecar and the receiver together: the
// mim-metrics binary reports a fixture MongooseIM cluster to a running
// mim-metrics-receiver, and what the receiver stored (its export) is
// compared with what the sidecar sent (its report file).
package receiver_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/test/testkit"

	"github.com/mim-metrics/mim-metrics/test/erltest"
	"github.com/mim-metrics/mim-metrics/test/fakega"
	"github.com/mim-metrics/mim-metrics/test/pgtest"
)

const (
	// The Cluster ID in the 6.2.1 fixture.
	fixtureClusterID = "d613125a-4f3f-431a-8a9a-24b4c5540a31"
	property         = "G-E2E"
	propertySecret   = "e2e-secret-7f3a"
	// A property given without a kind: production.
	prodProperty, prodSecret = "G-E2EPROD", "e2e-prod-secret-5c1d"
)

var (
	sidecarBin, receiverBin string
	cookie                  = erltest.RandomCookie()
	cookieFile              string
	mimA, mimB              *erltest.Node
	workDir                 string
	// pg is a real PostgreSQL server; nil when it is not installed (its
	// tests then skip, or fail under CI=true).
	pg *pgtest.Server
)

func TestMain(m *testing.M) {
	erltest.RequireForMain()
	code := func() int {
		defer erltest.Cleanup()
		var err error
		if workDir, err = os.MkdirTemp("", "mim-receiver-e2e"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(workDir)
		if err := setup(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if pg, err = pgtest.Start(); err != nil && !errors.Is(err, pgtest.ErrNotInstalled) {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
			return 1
		}
		defer pg.Stop()
		defer func() {
			if hiddenCluster != nil {
				hiddenCluster.Close()
			}
		}()
		return m.Run()
	}()
	os.Exit(code)
}

// setup builds both binaries and starts a two-node fixture cluster
// (MongooseIM 6.2.1; the second node has generated sentinel hosts).
func setup() error {
	var err error
	if sidecarBin, err = testkit.Build(workDir, "./cmd/mim-metrics"); err != nil {
		return err
	}
	if receiverBin, err = testkit.Build(workDir, "./cmd/mim-metrics-receiver"); err != nil {
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

// startReceiver starts the receiver with db and the e2e property (kind
// ci), and more args; it is stopped with SIGTERM when the test ends, and
// must then exit 0.
func startReceiver(t *testing.T, db string, extra ...string) *testkit.Receiver {
	t.Helper()
	return testkit.StartReceiver(t, receiverBin, append([]string{"--db", db,
		"--property", property + ":" + propertySecret + ":ci"}, extra...)...)
}

// result is what one run of a binary did.
type result struct {
	code           int
	stdout, stderr string
}

// run runs a binary to completion (bounded by 90 s).
func run(t *testing.T, bin string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append([]string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), "ERL_EPMD_PORT=" + os.Getenv("ERL_EPMD_PORT")}, env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errOut.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s: %v", filepath.Base(bin), err)
	}
	return r
}

// sidecarArgs are the flags of a sidecar run against the fixture cluster,
// with a private report file and state directory, and Google's endpoint at
// ga (which must receive nothing).
func sidecarArgs(t *testing.T, ga *fakega.Server) (args []string, reportFile string) {
	dir := t.TempDir()
	reportFile = filepath.Join(dir, "system_metrics_report.json")
	return []string{"--node", mimA.Name, "--cookie-file", cookieFile, "--ga-endpoint", ga.URL,
		"--report-file", reportFile, "--state-dir", filepath.Join(dir, "state"), "--log-format", "json", "--report"}, reportFile
}

// storedEvent is one line of `mim-metrics-receiver export`.
type storedEvent struct {
	Property  string         `json:"property"`
	Kind      string         `json:"kind"`
	ClientID  string         `json:"client_id"`
	ReportKey string         `json:"report_key"`
	Name      string         `json:"name"`
	Params    map[string]any `json:"params"`
}

// export runs `mim-metrics-receiver export` on db and returns its events.
func export(t *testing.T, db string) (events []storedEvent, raw string) {
	t.Helper()
	r := run(t, receiverBin, nil, "export", "--db", db)
	if r.code != 0 {
		t.Fatalf("export: exit %d\n%s", r.code, r.stderr)
	}
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var e storedEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("export line does not parse: %v: %s", err, sc.Text())
		}
		events = append(events, e)
	}
	return events, r.stdout
}

// reportFile is the part of the sidecar's report file compared here.
type reportFile struct {
	ClientID string `json:"client_id"`
	Nodes    []struct {
		Node   string `json:"node"`
		Events []struct {
			Name   string         `json:"name"`
			Params map[string]any `json:"params"`
		} `json:"events"`
	} `json:"nodes"`
}

func readReportFile(t *testing.T, path string) reportFile {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f reportFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("report file: %v", err)
	}
	return f
}

// eventKey is an event in a canonical form (params by sorted key).
func eventKey(name string, params map[string]any) string {
	b, _ := json.Marshal(params) // maps marshal in key order
	return name + " " + string(b)
}

// reportKey is one node's report as a canonical string: its events,
// sorted.
func canonical(events []string) string {
	s := append([]string(nil), events...)
	sort.Strings(s)
	return strings.Join(s, "\n")
}

// sentReports gives, per node of the report file, its events in
// canonical form, sorted.
func sentReports(f reportFile) []string {
	var out []string
	for _, n := range f.Nodes {
		var evs []string
		for _, e := range n.Events {
			evs = append(evs, eventKey(e.Name, e.Params))
		}
		out = append(out, canonical(evs))
	}
	sort.Strings(out)
	return out
}

// storedReports groups stored events by report key (one node's report of
// one cycle) in canonical form, sorted.
func storedReports(events []storedEvent) []string {
	by := map[string][]string{}
	for _, e := range events {
		by[e.ReportKey] = append(by[e.ReportKey], eventKey(e.Name, e.Params))
	}
	var out []string
	for _, evs := range by {
		out = append(out, canonical(evs))
	}
	sort.Strings(out)
	return out
}

// sameReports fails t unless stored holds exactly the sent reports.
func sameReports(t *testing.T, what string, sent, stored []string) {
	t.Helper()
	if strings.Join(sent, "\n\n") == strings.Join(stored, "\n\n") {
		return
	}
	t.Errorf("%s: %d reports sent, %d stored; they differ", what, len(sent), len(stored))
	for i := 0; i < max(len(sent), len(stored)); i++ {
		var s, st string
		if i < len(sent) {
			s = sent[i]
		}
		if i < len(stored) {
			st = stored[i]
		}
		if s != st {
			t.Logf("report %d sent:\n%s\nstored:\n%s", i, s, st)
			break
		}
	}
}

func sentinels(t *testing.T) []string {
	out, err := erltest.Sentinels(filepath.Join("..", "fixtures"))
	if err != nil {
		t.Fatal(err)
	}
	return append(out, mimA.Name, mimB.Name, cookie, propertySecret, prodSecret)
}

// noSentinels fails t if any private name or secret is in text.
func noSentinels(t *testing.T, where, text string) {
	t.Helper()
	for _, s := range sentinels(t) {
		if strings.Contains(text, s) {
			t.Errorf("%s holds the private name %q", where, s)
		}
	}
}

// TestOnceDeliversToReceiver: `once --receiver ... --upstream=false`
// delivers both nodes' reports to a running receiver (SQLite) and nothing
// to Google; the receiver's export holds exactly what the report file
// says was sent, one report per node, under the cluster's client id and
// the property's kind (production: the property is given without one);
// no node name, host name, cookie or secret is in the sidecar's log (the
// secret), the export, the receiver's log or its database files.
func TestOnceDeliversToReceiver(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "receiver.db")
	recv := startReceiver(t, db, "--property", prodProperty+":"+prodSecret)
	ga := fakega.New(t)
	args, file := sidecarArgs(t, ga)
	receiverURL := strings.Replace(recv.URL, "://", "://"+prodProperty+":"+prodSecret+"@", 1)
	r := run(t, sidecarBin, nil, append([]string{"once", "--upstream=false", "--receiver", receiverURL}, args...)...)
	if r.code != 0 {
		t.Fatalf("once: exit %d\n%s\n%s\nreceiver:\n%s", r.code, r.stdout, r.stderr, recv.Logs.String())
	}
	if n := ga.RequestCount(); n != 0 {
		t.Errorf("%d requests went to Google with --upstream=false", n)
	}
	if strings.Contains(r.stdout+r.stderr, prodSecret) {
		t.Error("the sidecar's log shows the receiver's secret")
	}
	sent := readReportFile(t, file)
	events := 0
	for _, n := range sent.Nodes {
		events += len(n.Events)
	}
	if len(sent.Nodes) != 2 || events == 0 {
		t.Fatalf("the report file has %d nodes, %d events; want 2 nodes and their events", len(sent.Nodes), events)
	}
	stored, raw := export(t, db)
	sameReports(t, "once", sentReports(sent), storedReports(stored))
	for _, e := range stored {
		if e.ClientID != fixtureClusterID || e.Property != prodProperty || e.Kind != "production" {
			t.Errorf("stored event %s under client %q, property %q, kind %q; want %s, %s, production",
				e.Name, e.ClientID, e.Property, e.Kind, fixtureClusterID, prodProperty)
			break
		}
	}
	noSentinels(t, "the export", raw)
	noSentinels(t, "the receiver's log", recv.Logs.String())
	recv.Stop(t) // the database files are complete once it has exited
	files, _ := filepath.Glob(filepath.Join(dir, "receiver.db*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		noSentinels(t, filepath.Base(f), string(b))
	}
}

// TestUAToReceiver: the receiver also takes Universal Analytics batches,
// as MongooseIM up to 6.0 sent them: the sidecar's UA requests (its
// --ga-endpoint pointed at the receiver) are stored as the same events the
// report file lists.
func TestUAToReceiver(t *testing.T) {
	t.Parallel()
	const ua = "UA-7654321-1"
	db := "sqlite:" + filepath.Join(t.TempDir(), "receiver.db")
	recv := startReceiver(t, db, "--property", ua+":ci")
	args, file := sidecarArgs(t, fakega.New(t))
	args = append(args, "--ga-endpoint", recv.URL) // the last --ga-endpoint wins
	r := run(t, sidecarBin, nil, append([]string{"once", "--upstream=false", "--tracking-id", ua}, args...)...)
	if r.code != 0 {
		t.Fatalf("once: exit %d\n%s\n%s\nreceiver:\n%s", r.code, r.stdout, r.stderr, recv.Logs.String())
	}
	var sent []string
	for _, n := range readReportFile(t, file).Nodes {
		for _, e := range n.Events {
			sent = append(sent, eventKey(e.Name, e.Params))
		}
	}
	storedEvents, raw := export(t, db)
	var stored []string
	for _, e := range storedEvents {
		stored = append(stored, eventKey(e.Name, e.Params))
		if e.Property != ua || e.ClientID != fixtureClusterID || e.Kind != "ci" {
			t.Errorf("stored under property %q, client %q, kind %q", e.Property, e.ClientID, e.Kind)
			break
		}
	}
	if a, b := canonical(sent), canonical(stored); a != b {
		t.Errorf("UA: %d events sent, %d stored; they differ:\nsent:\n%s\nstored:\n%s", len(sent), len(stored), a, b)
	}
	noSentinels(t, "the export", raw)
}
