package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/store"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mim-metrics-receiver-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, progName)
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs the binary with a bounded time and a clean environment plus
// env.
func run(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append([]string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}, env...)
	cmd.Dir = t.TempDir()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return result{code, out.String(), errb.String()}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"help"}, {"import", "--help"}} {
		r := run(t, nil, args...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d", args, r.code)
		}
		for _, want := range []string{
			"Usage: mim-metrics-receiver [command] [flags]", "serve", "import FILE...", "export",
			"POST /mp/collect", "POST /debug/mp/collect", "POST /batch, /collect", "POST /api/v1/reports",
			"--listen  [MIM_RECEIVER_LISTEN]", "(default 127.0.0.1:8080)", "--db  [MIM_RECEIVER_DB]", "(default sqlite:./mim-metrics.db)",
			"--property  [MIM_RECEIVER_PROPERTY]", "--admin-token", "--retention", "(default 90d)", "--geoip-db", "--trusted-proxy",
			"--max-clusters-per-address", "(default 5)", "--max-clusters-per-address-for", "--limiter-keys", "--tls-cert", "--tls-key", "GET /healthz, /readyz", "--client-burst", "(default 1500)", "--address-burst", "(default 3000)", "--min-clusters", "--dashboard-listen", "--since", "--until", "--client-id",
			"Exit codes: 0 success, 1 runtime failure, 2 bad usage.",
		} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("%v: the help lacks %q", args, want)
			}
		}
	}
	if r := run(t, nil, "version"); r.code != 0 || !strings.HasPrefix(r.stdout, "mim-metrics-receiver ") {
		t.Errorf("version: %d %q", r.code, r.stdout)
	}
}

// TestBadUsage: exit 2 and one line naming what is wrong.
func TestBadUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env  []string
		args []string
		want string
	}{
		{nil, nil, "no property configured: accept reports with --property G-XXXX:SECRET[:production|ci] (or MIM_RECEIVER_PROPERTY)"},
		{nil, []string{"serve", "--listen", "127.0.0.1:0"}, "no property configured: accept reports with --property G-XXXX:SECRET[:production|ci] (or MIM_RECEIVER_PROPERTY)"},
		{nil, []string{"--property", "G-ABC"}, "--property: property G-ABC: the API secret is missing; expected G-XXXX:SECRET[:production|ci] or UA-XXXX-N[:production|ci]"},
		{nil, []string{"--property", "G-ABC:s", "--property", "G-ABC:t"}, "--property G-ABC is given twice"},
		{nil, []string{"--property", "G-ABC:s", "--retention", "5x"}, `invalid value "5x" for flag -retention: invalid retention "5x": expected days such as 90d, or a duration such as 2160h (see --help)`},
		{nil, []string{"--property", "G-ABC:s", "--listen", "8080"}, `--listen must be host:port, such as 127.0.0.1:8080, got "8080"`},
		{nil, []string{"--property", "G-ABC:s", "--trusted-proxy", "10.0.0.0/33"}, `--trusted-proxy: invalid proxy range "10.0.0.0/33": expected a CIDR such as 10.0.0.0/8 or an address`},
		{nil, []string{"--property", "G-ABC:s", "--max-clusters-per-address", "0"}, "--max-clusters-per-address must be at least 1, got 0"},
		{nil, []string{"--property", "G-ABC:s", "--client-burst", "0"}, "--client-burst and --address-burst must be at least 1"},
		{nil, []string{"--property", "G-ABC:s", "--min-clusters", "2"}, `--min-clusters must be at least 3 ("fewer than 2 clusters" would say 1), got 2`},
		{nil, []string{"--property", "G-ABC:s", "--admin-token", "short-sentinel"}, "--admin-token is 14 characters, fewer than 16: too easy to guess; make one with: openssl rand -hex 16"},
		{nil, []string{"--property", "G-ABC:s", "--admin-token", "abcabcabcabcabcabc"}, "--admin-token has fewer than 8 different characters: too easy to guess; make one with: openssl rand -hex 16"},
		{nil, []string{"--property", "G-ABC:s", "--max-clusters-per-address-for", "G-ABC"}, `--max-clusters-per-address-for must be PROPERTY=N with N at least 1, such as G-CI123=1000, got "G-ABC"`},
		{nil, []string{"--property", "G-ABC:s", "--max-clusters-per-address-for", "G-XYZ=10"}, "--max-clusters-per-address-for G-XYZ: not a --property of this receiver"},
		{[]string{"MIM_RECEIVER_MAX_CLUSTERS_PER_ADDRESS_FOR=G-ABC=10,G-ABC=20"}, []string{"--property", "G-ABC:s"}, "--max-clusters-per-address-for G-ABC is given twice"},
		{nil, []string{"--property", "G-ABC:s", "--tls-cert", "c.pem"}, "--tls-cert and --tls-key go together: give both, or neither"},
		{nil, []string{"--property", "G-ABC:s", "--limiter-keys", "10"}, "--limiter-keys must be at least 1000, got 10"},
		{nil, []string{"--nope"}, "flag provided but not defined: -nope (see --help)"},
		{nil, []string{"frobnicate"}, `unknown command "frobnicate": use serve, import, export or version (see --help)`},
		{nil, []string{"serve", "extra"}, `unexpected argument "extra": flags start with --, and the command comes first (see --help)`},
		{nil, []string{"import"}, "import: name at least one report file (or - for stdin)"},
		{nil, []string{"import", "f.json", "--import-kind", "staging"}, `--import-kind must be production or ci, got "staging"`},
		{nil, []string{"export", "--since", "yesterday"}, `--since: "yesterday" is neither a date (2006-01-02) nor an RFC 3339 time (2006-01-02T15:04:05Z)`},
		{nil, []string{"export", "--since", "2026-12-02", "--until", "2026-12-01"}, "--since must be before --until"},
		{nil, []string{"export", "--db", "mysql://u:p@h/db"}, "--db must be sqlite:FILE or postgres://user:password@host/db"},
		{[]string{"MIM_RECEIVER_RETENTION=abc"}, []string{"export"}, `invalid value abc for MIM_RECEIVER_RETENTION: invalid retention "abc": expected days such as 90d, or a duration such as 2160h`},
		{[]string{"MIM_RECEIVER_PROPERTY=G-ABC:sentinel-secret:staging"}, nil, `--property: property G-ABC: unknown kind "staging": use production or ci`},
		{[]string{"MIM_RECEIVER_LOG_FORMAT=xml"}, []string{"export"}, `--log-format must be text or json, got "xml"`},
	}
	for _, tc := range tests {
		r := run(t, tc.env, tc.args...)
		want := "mim-metrics-receiver: " + tc.want + "\n"
		if r.code != 2 || r.stderr != want || r.stdout != "" {
			t.Errorf("%v %v: exit %d, stderr %q, stdout %q\nwant exit 2 and %q", tc.env, tc.args, r.code, r.stderr, r.stdout, want)
		}
		if strings.Contains(r.stderr, "sentinel-secret") {
			t.Errorf("%v: the secret is in the error", tc.env)
		}
	}
}

const sidecarFile = `{
  "client_id": "air-gapped-cluster",
  "generated_at": "2026-11-30T08:00:00Z",
  "nodes": [
    {"node": "mim1@sentinel-host", "server": "mongooseim", "version": "6.2.1", "events": [
      {"name": "host_count", "params": {"value": 2}},
      {"name": "module_with_opt", "params": {"module": "mod_vcard", "backend": "ldap"}},
      {"name": "cluster", "params": {"uptime": "0001-02:03:04", "version": "6.2.1", "component": 0, "node_number": 2, "config_type": "toml"}},
      {"name": "cluster", "params": {"version": "<b>bold</b>"}}
    ]},
    {"node": "mim2@sentinel-host", "events": [{"name": "host_count", "params": {"value": 2}}]}
  ],
  "destinations": []
}`

func TestImportExport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "r.db")
	file := filepath.Join(dir, "system_metrics_report.json")
	if err := os.WriteFile(file, []byte(sidecarFile), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, nil, "import", "--db", db, file)
	if want := file + ": 2 batches stored (4 events), 0 already stored, 1 events dropped (1 implausible value)\n"; r.code != 0 || r.stdout != want {
		t.Fatalf("import: exit %d\nstdout %q\nstderr %q\nwant %q", r.code, r.stdout, r.stderr, want)
	}
	r = run(t, nil, "import", file, "--db", db)
	if want := file + ": 0 batches stored (0 events), 2 already stored, 1 events dropped (1 implausible value)\n"; r.code != 0 || r.stdout != want {
		t.Errorf("import again: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	// The ingest health counts both imports.
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	counts, err := st.IngestCounts(context.Background(), time.Now().AddDate(0, 0, -1), time.Now())
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, c := range counts {
		got[c.Name+"/"+c.Reason] += c.N
	}
	if want := map[string]int64{"imported/batches stored": 2, "imported/batches already stored": 2, "dropped/implausible value (import)": 2}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ingest health after two imports: %v, want %v", got, want)
	}
	r = run(t, []string{"MIM_RECEIVER_DB=" + db}, "export")
	if r.code != 0 {
		t.Fatalf("export: %d %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 4 {
		t.Fatalf("export: %d lines\n%s", len(lines), r.stdout)
	}
	var first store.StoredEvent
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if first.ClientID != "air-gapped-cluster" || first.Property != "import" || first.Kind != store.Production || first.Name != "host_count" ||
		!first.Received.Equal(time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("exported %+v", first)
	}
	if strings.Contains(r.stdout, "sentinel-host") {
		t.Error("a node name was stored")
	}
	for _, span := range []struct {
		since, until string
		n            int
	}{{"2026-11-30", "2026-11-30", 4}, {"2026-12-01", "", 0}, {"", "2026-11-29", 0}, {"2026-11-30T07:59:59Z", "2026-11-30T08:00:01Z", 4}} {
		args := []string{"export", "--db", db}
		if span.since != "" {
			args = append(args, "--since", span.since)
		}
		if span.until != "" {
			args = append(args, "--until", span.until)
		}
		r := run(t, nil, args...)
		if n := strings.Count(r.stdout, "\n"); r.code != 0 || n != span.n {
			t.Errorf("export %v: exit %d, %d lines, want %d", args, r.code, n, span.n)
		}
	}
	// MongooseIM's own file needs the cluster's id.
	mim := filepath.Join(dir, "mim.json")
	if err := os.WriteFile(mim, []byte(`[{"name":"host_count","params":{"value":1}}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, nil, "import", "--db", db, mim)
	if want := "mim-metrics-receiver: " + mim + ": the file names no client id (MongooseIM's own report file): give the cluster's id (client_id, --client-id)\n"; r.code != 1 || r.stderr != want {
		t.Errorf("MongooseIM file without --client-id: exit %d %q", r.code, r.stderr)
	}
	if r = run(t, nil, "import", "--db", db, "--client-id", "c2", "--import-kind", "ci", mim); r.code != 0 {
		t.Errorf("MongooseIM file: exit %d %q", r.code, r.stderr)
	}
	r = run(t, nil, "import", "--db", db, filepath.Join(dir, "missing.json"))
	if want := "mim-metrics-receiver: read " + filepath.Join(dir, "missing.json") + ": no such file or directory\n"; r.code != 1 || r.stderr != want {
		t.Errorf("a missing file: exit %d %q", r.code, r.stderr)
	}
}

// startServe starts the binary's serve and returns its address once it
// listens; the process is killed at the end of the test if still running.
func startServe(t *testing.T, db string, extra ...string) (*exec.Cmd, string, *bytes.Buffer) {
	t.Helper()
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--db", db, "--property", "G-SIGTERM1:sig-secret", "--log-format", "json"}, extra...)
	cmd := exec.Command(binary, args...)
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	addr := make(chan string, 1)
	var logs bytes.Buffer
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			var l struct{ Msg, Address string }
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "listening" && !sent {
				addr <- l.Address
				sent = true
			}
		}
	}()
	select {
	case a := <-addr:
		return cmd, a, &logs
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not listen within 30 s; stderr %s", stderr.String())
	}
	return nil, "", nil
}

// TestSIGTERM: requests in flight when SIGTERM comes are all answered 2xx
// and all stored; the counts are flushed; exit 0.
func TestSIGTERM(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "r.db")
	cmd, addr, logs := startServe(t, db)
	const n = 20
	conns := make([]net.Conn, n)
	readers := make([]*bufio.Reader, n)
	bodies := make([]string, n)
	for i := range n {
		bodies[i] = fmt.Sprintf(`{"client_id":"c-%d","timestamp_micros":1764576000000000,"events":[{"name":"host_count","params":{"value":%d}}]}`, i, i+1)
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(60 * time.Second))
		// With Expect: 100-continue the server says when the handler
		// starts reading the body: the request is then in flight.
		fmt.Fprintf(c, "POST /mp/collect?measurement_id=G-SIGTERM1&api_secret=sig-secret HTTP/1.1\r\nHost: %s\r\n"+
			"Content-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", addr, len(bodies[i]))
		conns[i], readers[i] = c, bufio.NewReader(c)
	}
	for i, r := range readers {
		resp, err := http.ReadResponse(r, nil)
		if err != nil || resp.StatusCode != http.StatusContinue {
			t.Fatalf("request %d: no 100 Continue: %v %v", i, err, resp)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for i, c := range conns {
		if _, err := io.WriteString(c, bodies[i]); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		resp, err := http.ReadResponse(readers[i], nil)
		if err != nil {
			t.Fatalf("request %d in flight at SIGTERM: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("request %d in flight at SIGTERM: %d", i, resp.StatusCode)
		}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, logs)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("no exit within 60 s of SIGTERM")
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Error("still accepting after exit")
	}
	ctx := context.Background()
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stored := 0
	if err := st.Export(ctx, time.Time{}, time.Now().Add(time.Hour), func(store.StoredEvent) error { stored++; return nil }); err != nil {
		t.Fatal(err)
	}
	if stored != n {
		t.Errorf("%d events stored, want %d", stored, n)
	}
	today := store.Day(time.Now())
	counts, err := st.IngestCounts(ctx, today.AddDate(0, 0, -1), today.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	var batches int64
	for _, c := range counts {
		if c.Name == "stored" {
			batches += c.N
		}
	}
	if batches != n {
		t.Errorf("ingest counts after shutdown: %d stored batches, want %d (%+v)", batches, n, counts)
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "127.0.0.1") && !strings.Contains(line, `"msg":"listening"`) {
			t.Errorf("a client address is in the logs: %s", line)
		}
	}
}
