package receiver

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/mim-metrics/mim-metrics/contract"
)

var writeCorpus = flag.Bool("write-corpus", false, "rewrite testdata/fuzz from the golden reports")

// sidecarBodies are the bodies the sidecar sends for every golden report,
// by protocol ("GA4", "UA"), and report files in both MongooseIM shapes.
func sidecarBodies(t testing.TB) map[string][][]byte {
	out := map[string][][]byte{}
	reports := goldenReports(t)
	eras := make([]string, 0, len(reports))
	for era := range reports {
		eras = append(eras, era)
	}
	sort.Strings(eras)
	for _, era := range eras {
		for id, kind := range map[string]string{"G-FUZZ1:secret": "GA4", "UA-1-1": "UA"} {
			for _, r := range sidecarRequests(t, id, "fuzz-cluster", node(reports[era])) {
				out[kind] = append(out[kind], r.Body)
			}
		}
		raw, err := os.ReadFile(filepath.Join("../test/fixtures", era, "expected.json"))
		if err != nil {
			t.Fatal(err)
		}
		out["file"] = append(out["file"], raw,
			[]byte(`{"client_id":"c","generated_at":"2026-12-01T00:00:00Z","nodes":[{"node":"n@h","events":`+string(raw)+`}]}`))
	}
	out["file"] = append(out["file"], []byte(`[{"value":[118,51],"report_name":"mod_push_service_mongoosepush","key":"api_version"}]`))
	return out
}

// TestWriteFuzzCorpus rewrites the committed seed corpus with
// -write-corpus; without it, checks that the corpus exists.
func TestWriteFuzzCorpus(t *testing.T) {
	dirs := map[string]string{"GA4": "FuzzDecodeGA4", "UA": "FuzzDecodeUA", "file": "FuzzDecodeReportFile"}
	if !*writeCorpus {
		for _, d := range dirs {
			if files, _ := filepath.Glob(filepath.Join("testdata/fuzz", d, "*")); len(files) == 0 {
				t.Errorf("no seed corpus in testdata/fuzz/%s: run go test -run TestWriteFuzzCorpus ./receiver -args -write-corpus", d)
			}
		}
		return
	}
	for kind, bodies := range sidecarBodies(t) {
		dir := filepath.Join("testdata/fuzz", dirs[kind])
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, b := range bodies {
			sum := sha256.Sum256(b)
			content := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
			if err := os.WriteFile(filepath.Join(dir, "sidecar-"+hex.EncodeToString(sum[:8])), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func FuzzDecodeGA4(f *testing.F) {
	f.Add([]byte(`{"client_id":"c","timestamp_micros":1,"events":[{"name":"cluster","params":{"node_number":1e400}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		d, rerr := decodeGA4(body)
		if (d == nil) == (rerr == nil) {
			t.Fatalf("exactly one of a request and an error: %v %v", d, rerr)
		}
		_ = validationMessages(d, rerr)
		if d != nil {
			checkKept(t, d)
		}
	})
}

func FuzzDecodeUA(f *testing.F) {
	f.Add([]byte("v=1&tid=UA-1-1&t=event&cid=c&ec=cluster&ea=number_of_nodes&el=1\nv=1&tid=UA-1-1&t=event&cid=c&ec=cluster&ea=mim_version&el=%22x%22"))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, rerr := decodeUA(body)
		if (r == nil) == (rerr == nil) {
			t.Fatalf("exactly one of a request and an error: %v %v", r, rerr)
		}
		if r != nil {
			checkKept(t, &r.decoded)
		}
	})
}

func FuzzDecodeReportFile(f *testing.F) {
	f.Add([]byte(`{"client_id":"c","nodes":[{"events":[{"name":"host_count","params":{"value":1}}]}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		rf, rerr := decodeReportFile(body)
		if (rf == nil) == (rerr == nil) {
			t.Fatalf("exactly one of a file and an error: %v %v", rf, rerr)
		}
		if rf != nil {
			for i := range rf.Nodes {
				checkKept(t, &rf.Nodes[i])
			}
		}
	})
}

// checkKept: every kept event passes validation again, unchanged.
func checkKept(t *testing.T, d *decoded) {
	for _, e := range d.Events {
		again, derr := contract.Check(e.Name, e.Params, false)
		if derr != nil {
			t.Fatalf("kept event %s fails validation: %v", e.Name, derr)
		}
		if fmt.Sprint(again) != fmt.Sprint(e) {
			t.Fatalf("validation changed a kept event: %v -> %v", e, again)
		}
	}
}
