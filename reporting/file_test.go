package reporting

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/contract"
	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/test/fakega"
	"github.com/mim-metrics/mim-metrics/test/testkit"
)

type fileShape struct {
	ClientID    string `json:"client_id"`
	GeneratedAt string `json:"generated_at"`
	Nodes       []struct {
		Node    string
		Server  string
		Version string
		Error   string
		Events  []struct {
			Name   string
			Params map[string]any
		}
		Dropped []struct{ Event, Reason string }
	}
	Destinations []struct {
		Destination, Outcome, Error string
		Requests, Delivered         int
		Attempts, Status            int
	}
}

func readReportFile(t *testing.T, path string) fileShape {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f fileShape
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("report file does not parse: %v\n%s", err, data)
	}
	return f
}

// system_metrics_are_reported_to_a_json_file: the file holds the events as
// sent, for all nodes, with the client id and the time.
func TestReportFileContent(t *testing.T) {
	t.Parallel()
	ga := fakega.New(t)
	log, _ := observed()
	bad := mimReport("mim2@host2")
	bad.Events = append(bad.Events, contract.Event{Name: "bad name"})
	down := metrics.NodeReport{Node: "mim3@host3", Err: errors.New("nodedown")}
	src := &fakeSource{clusterID: "cid-1", reports: []metrics.NodeReport{mimReport("mim@host1"), bad, down}}
	cfg := testConfig(t, src, ga.URL, log)
	now := time.Date(2026, 8, 4, 12, 30, 0, 0, time.UTC)
	cfg.Clock = testkit.NewManualClock[Timer](now)
	if _, err := newService(t, cfg).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(cfg.ReportFile)
	if !strings.HasPrefix(string(data), "{\n  \"client_id\": \"cid-1\",\n  \"generated_at\": \"2026-08-04T12:30:00Z\",") {
		t.Errorf("file is not indented by two spaces or lacks the header:\n%.200s", data)
	}
	f := readReportFile(t, cfg.ReportFile)
	if len(f.Nodes) != 3 || f.Nodes[0].Node != "mim@host1" || f.Nodes[1].Node != "mim2@host2" || f.Nodes[2].Error != "nodedown" {
		t.Fatalf("nodes = %+v", f.Nodes)
	}
	if f.Nodes[0].Server != "mongooseim" || f.Nodes[0].Version != "6.8.0" {
		t.Errorf("node 0 = %+v", f.Nodes[0])
	}
	if len(f.Nodes[1].Dropped) != 1 || f.Nodes[1].Dropped[0].Event != "bad name" {
		t.Errorf("dropped = %+v", f.Nodes[1].Dropped)
	}
	// Events exactly as sent: compare with what the fake received.
	var sent []any
	for _, e := range ga.Events() {
		sent = append(sent, map[string]any{"name": e.Name, "params": normalize(e.Params)})
	}
	var written []any
	for _, n := range f.Nodes {
		for _, e := range n.Events {
			written = append(written, map[string]any{"name": e.Name, "params": normalize(e.Params)})
		}
	}
	if !reflect.DeepEqual(sent, written) {
		t.Errorf("file events differ from the sent ones:\nsent    %v\nwritten %v", sent, written)
	}
	if len(f.Destinations) != 1 || f.Destinations[0].Outcome != "accepted" || f.Destinations[0].Delivered != 2 {
		t.Errorf("destinations = %+v", f.Destinations)
	}
}

// normalize makes numbers comparable across decoders.
func normalize(p map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range p {
		switch v := v.(type) {
		case int64:
			out[k] = float64(v)
		default:
			out[k] = v
		}
	}
	return out
}

func TestReportFileWrittenWhenSendingFails(t *testing.T) {
	t.Parallel()
	ga := fakega.New(t)
	ga.SetDefault(fakega.Status(403))
	log, logs := observed()
	src := &fakeSource{clusterID: "cid", reports: []metrics.NodeReport{mimReport("mim@h")}}
	cfg := testConfig(t, src, ga.URL, log)
	res, err := newService(t, cfg).RunOnce(context.Background())
	if err != nil || res.Accepted() || res.FileErr != nil {
		t.Fatalf("RunOnce = %+v, %v", res, err)
	}
	f := readReportFile(t, cfg.ReportFile)
	if len(f.Destinations) != 1 || f.Destinations[0].Outcome != "rejected" || f.Destinations[0].Status != 403 {
		t.Errorf("destinations = %+v", f.Destinations)
	}
	if len(f.Nodes[0].Events) != len(mimEvents()) {
		t.Errorf("%d events in the file, want %d", len(f.Nodes[0].Events), len(mimEvents()))
	}
	if !strings.Contains(logText(logs), "sending failed for some destinations, the report file was written anyway") {
		t.Errorf("the log does not say so:\n%s", logText(logs))
	}
}

// The file is replaced atomically: readers only ever see a whole file, it
// is a new file each cycle, and no temporary files stay behind.
func TestReportFileReplacedAtomically(t *testing.T) {
	t.Parallel()
	ga := fakega.New(t)
	log, _ := observed()
	src := &fakeSource{clusterID: "cid", reports: []metrics.NodeReport{mimReport("mim@h"), mimReport("mim2@h")}}
	cfg := testConfig(t, src, ga.URL, log)
	cfg.Period = 15 * time.Millisecond

	var reads, partial atomic.Int64
	readerCtx, stopReader := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for readerCtx.Err() == nil {
			data, err := os.ReadFile(cfg.ReportFile)
			if err != nil {
				continue
			}
			reads.Add(1)
			if !json.Valid(data) {
				partial.Add(1)
			}
		}
	})

	svc := newService(t, cfg)
	stop := runService(t, svc, 2*time.Second)
	if !ga.WaitFor(5*time.Second, func() bool { _, err := os.Stat(cfg.ReportFile); return err == nil }) {
		t.Fatal("no report file")
	}
	// Keep the first file open: its inode cannot be reused, so a later
	// file at the same path is a different file only if it was replaced.
	old, err := os.Open(cfg.ReportFile)
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	oldInfo, err := old.Stat()
	if err != nil {
		t.Fatal(err)
	}
	n := len(src.collectStarts())
	if !ga.WaitFor(5*time.Second, func() bool { return len(src.collectStarts()) >= n+3 }) {
		t.Fatal("the cycles stopped")
	}
	stop()
	stopReader()
	wg.Wait()

	newInfo, err := os.Stat(cfg.ReportFile)
	if err != nil {
		t.Fatal(err)
	}
	if os.SameFile(oldInfo, newInfo) {
		t.Error("the report file was rewritten in place, not replaced")
	}
	if data, err := io.ReadAll(old); err != nil || !json.Valid(data) {
		t.Errorf("the replaced file changed under its reader: %v", err)
	}
	if reads.Load() == 0 || partial.Load() != 0 {
		t.Errorf("%d reads, %d of them not whole JSON", reads.Load(), partial.Load())
	}
	entries, _ := os.ReadDir(filepath.Dir(cfg.ReportFile))
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only the report file", names)
	}
	if fi, _ := os.Stat(cfg.ReportFile); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
}

func TestReportFileErrorIsReported(t *testing.T) {
	t.Parallel()
	ga := fakega.New(t)
	log, logs := observed()
	cfg := testConfig(t, &fakeSource{clusterID: "cid", reports: []metrics.NodeReport{mimReport("mim@h")}}, ga.URL, log)
	cfg.ReportFile = filepath.Join(t.TempDir(), "missing-dir", "report.json")
	res, err := newService(t, cfg).RunOnce(context.Background())
	if err != nil || res.FileErr == nil || !res.Accepted() {
		t.Fatalf("RunOnce = %+v, %v; want delivery to work and the file error reported", res, err)
	}
	if !strings.Contains(logText(logs), "report file not written") {
		t.Errorf("not logged:\n%s", logText(logs))
	}
}
