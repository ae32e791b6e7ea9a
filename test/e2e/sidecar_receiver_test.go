package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
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

	"github.com/mim-metrics/mim-metrics/test/fakega"
)

var receiverBuild struct {
	once sync.Once
	path string
	err  error
}

// receiverBinary builds cmd/mim-metrics-receiver once per run.
func receiverBinary(t *testing.T) string {
	t.Helper()
	receiverBuild.once.Do(func() {
		receiverBuild.path, receiverBuild.err = testkit.Build(workDir, "./cmd/mim-metrics-receiver")
	})
	if receiverBuild.err != nil {
		t.Fatal(receiverBuild.err)
	}
	return receiverBuild.path
}

// canonicalEvents renders events as sorted canonical JSON lines.
func canonicalEvents(t *testing.T, evs []map[string]any) []string {
	t.Helper()
	out := make([]string, 0, len(evs))
	for _, e := range evs {
		b, err := json.Marshal(map[string]any{"name": e["name"], "params": e["params"]})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	sort.Strings(out)
	return out
}

// TestOnceToReceiver: the sidecar's `once` delivers the cluster's report to
// a running mim-metrics-receiver; what the receiver stored (its export)
// is exactly what the sidecar's report file says was sent, and no node
// name, host name or other sentinel is stored.
func TestOnceToReceiver(t *testing.T) {
	t.Parallel()
	recvBin := receiverBinary(t)
	dir := t.TempDir()
	dbFile := filepath.Join(dir, "receiver.db")
	db := "sqlite:" + dbFile
	const property, secret = "G-E2ERECV", "e2e-receiver-secret-7f3a"

	serve := exec.Command(recvBin, "serve", "--listen", "127.0.0.1:0", "--db", db, "--property", property+":"+secret, "--log-format", "json")
	serve.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	stdout, err := serve.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var serveErr bytes.Buffer
	serve.Stderr = &serveErr
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- serve.Wait() }()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = serve.Process.Kill()
			<-exited
		}
	})
	addrc := make(chan string, 1)
	var logMu sync.Mutex
	var serveLog strings.Builder
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			logMu.Lock()
			serveLog.WriteString(sc.Text() + "\n")
			logMu.Unlock()
			var l struct{ Msg, Address string }
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "listening" {
				addrc <- l.Address
			}
		}
	}()
	var addr string
	select {
	case addr = <-addrc:
	case <-time.After(60 * time.Second):
		t.Fatalf("the receiver did not listen within 60 s: %s", serveErr.String())
	}

	ga := fakega.New(t)
	args, reportFile := base(t, ga)
	receiverURL := "http://" + property + ":" + secret + "@" + addr
	r := run(t, ciEnv, append([]string{"once", "--report", "--upstream=false", "--receiver", receiverURL}, args...)...)
	if r.code != 0 {
		t.Fatalf("once: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if n := ga.RequestCount(); n != 0 {
		t.Errorf("%d requests went to Google", n)
	}

	if err := serve.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Fatalf("the receiver's exit after SIGTERM: %v\n%s", err, serveErr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the receiver did not stop within 60 s of SIGTERM")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	export := exec.CommandContext(ctx, recvBin, "export", "--db", db)
	var exported, exportErr bytes.Buffer
	export.Stdout, export.Stderr = &exported, &exportErr
	if err := export.Run(); err != nil {
		t.Fatalf("export: %v %s", err, exportErr.String())
	}
	var stored []map[string]any
	sc := bufio.NewScanner(&exported)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("export line %q: %v", sc.Text(), err)
		}
		if e["property"] != property || e["kind"] != "production" || e["client_id"] != fixtureClusterID {
			t.Errorf("stored as %v/%v/%v", e["property"], e["kind"], e["client_id"])
		}
		stored = append(stored, e)
	}

	raw, err := os.ReadFile(reportFile)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Nodes []struct {
			Events []map[string]any `json:"events"`
		} `json:"nodes"`
		Destinations []struct {
			Outcome string `json:"outcome"`
		} `json:"destinations"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	var sent []map[string]any
	for _, n := range file.Nodes {
		sent = append(sent, n.Events...)
	}
	if len(file.Nodes) != 2 || len(sent) == 0 {
		t.Fatalf("the report file holds %d nodes, %d events", len(file.Nodes), len(sent))
	}
	got, want := canonicalEvents(t, stored), canonicalEvents(t, sent)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the receiver stored %d events, the sidecar sent %d; they differ:\n got %v\nwant %v", len(got), len(want), got, want)
	}
	db1, _ := os.ReadFile(dbFile)
	wal, _ := os.ReadFile(dbFile + "-wal")
	logMu.Lock()
	logs := serveLog.String()
	logMu.Unlock()
	for _, s := range append(sentinels(t), secret) {
		for what, b := range map[string][]byte{"the database": db1, "its WAL": wal, "the export": exported.Bytes(), "the receiver's log": []byte(logs)} {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds the sentinel %q", what, s)
			}
		}
	}
}
