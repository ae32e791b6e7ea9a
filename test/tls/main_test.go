// Package tls_test reaches clusters the way Erlang does (issue 23): real
// erl nodes started with -proto_dist inet_tls and an -ssl_dist_optfile
// (certificates the test makes: a CA, node and client certificates, an
// expired one, one of another CA; the nodes verify the peer and require
// its certificate), IPv6 distribution on ::1, and a node without EPMD.
// The real binary runs check, preview and once against each, and every
// mismatch gives its one-line diagnosis.
package tls_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/test/testkit"

	"github.com/mim-metrics/mim-metrics/test/certtest"
	"github.com/mim-metrics/mim-metrics/test/erltest"
)

// gen is the fixture generation every node of these tests answers as.
const gen = "mim-6.4.0"

var (
	workDir string
	bin     string // the mim-metrics binary, built once

	// The test's certificates: of the cluster's CA (ca) and of another.
	ca, otherCA *certtest.CA
	// nodeOpts is the nodes' ssl_dist_optfile.
	nodeOpts string
	// The sidecar's client certificates.
	clientCert, clientKey     string
	expiredCert, expiredKey   string
	strangerCert, strangerKey string // signed by otherCA
)

func TestMain(m *testing.M) {
	erltest.RequireForMain()
	code := func() int {
		defer erltest.Cleanup()
		var err error
		if workDir, err = os.MkdirTemp("", "mim-tls"); err != nil {
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

// setup builds the binary while it makes the certificates.
func setup() error {
	var wg sync.WaitGroup
	var buildErr error
	wg.Go(func() {
		bin, buildErr = testkit.Build(workDir, "./cmd/mim-metrics")
	})
	defer wg.Wait()
	var err error
	if ca, err = certtest.NewCA(workDir, "cluster"); err != nil {
		return err
	}
	if otherCA, err = certtest.NewCA(workDir, "other"); err != nil {
		return err
	}
	hosts := certtest.Spec{DNS: []string{"localhost"}, IPs: []string{"127.0.0.1", "::1"}}
	nodeSpec := hosts
	nodeSpec.Name = "node"
	nodeCert, nodeKey, err := ca.Issue(nodeSpec)
	if err != nil {
		return err
	}
	nodeOpts = filepath.Join(workDir, "node-dist.conf")
	if err := certtest.OptFile(nodeOpts, nodeCert, nodeKey, ca.CAFile); err != nil {
		return err
	}
	if clientCert, clientKey, err = ca.Issue(certtest.Spec{Name: "client"}); err != nil {
		return err
	}
	if expiredCert, expiredKey, err = ca.Issue(certtest.Spec{Name: "client-expired", Expired: true}); err != nil {
		return err
	}
	if strangerCert, strangerKey, err = otherCA.Issue(certtest.Spec{Name: "client-stranger"}); err != nil {
		return err
	}
	wg.Wait()
	return buildErr
}

// tlsArgs are the erl arguments of a TLS node with the options file opts.
func tlsArgs(opts string) []string { return []string{"-ssl_dist_optfile", opts} }

// startTLSFixture starts a fixture node speaking TLS distribution with
// the cluster's certificates.
func startTLSFixture(t *testing.T, o erltest.Options) *erltest.Node {
	t.Helper()
	if o.Proto == "" {
		o.Proto = "inet_tls"
	}
	o.Args = append(tlsArgs(nodeOpts), o.Args...)
	return erltest.StartFixtureT(t, gen, o)
}

// sidecarOpts writes the sidecar's own options file: our client
// certificate and the CA, verify_peer.
func sidecarOpts(t *testing.T, cert, key, caFile string, extra string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sidecar-dist.conf")
	src := fmt.Sprintf("[{client, [{certfile, %q}, {keyfile, %q}, {cacertfile, %q}, {verify, verify_peer}%s]}].\n", cert, key, caFile, extra)
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// cookieFile writes cookie to a file of mode 0400.
func cookieFile(t *testing.T, cookie string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cookie")
	if err := os.WriteFile(p, []byte(cookie+"\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	return p
}

// result is one run of the binary.
type result struct {
	code           int
	stdout, stderr string
}

// run runs the binary to its end (at most 60 s) in a clean environment
// that reaches the private EPMD, with env added.
func run(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append([]string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"),
		"ERL_EPMD_PORT=" + os.Getenv("ERL_EPMD_PORT")}, env...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("mim-metrics %s did not end within 60 s", strings.Join(args, " "))
	}
	r := result{code: cmd.ProcessState.ExitCode(), stdout: out.String(), stderr: errOut.String()}
	if err != nil && r.code <= 0 {
		t.Fatalf("run: %v", err)
	}
	// Paths of keys, certificates and options files never show.
	for _, a := range args {
		for _, word := range strings.FieldsFunc(a, func(r rune) bool { return r == ' ' || r == '=' }) {
			if strings.HasSuffix(word, ".key") || strings.HasSuffix(word, ".pem") || strings.HasSuffix(word, ".conf") {
				if strings.Contains(r.stdout+r.stderr, word) || strings.Contains(r.stdout+r.stderr, filepath.Base(word)) {
					t.Errorf("mim-metrics %s shows the path %s", args[0], word)
				}
			}
		}
	}
	return r
}

// node is how the sidecar is told about one node: its name, cookie and
// the distribution flags.
type target struct {
	node   *erltest.Node
	cookie string // a cookie file
	flags  []string
}

func (g target) args(command string, more ...string) []string {
	a := []string{command, "--node", g.node.Name, "--cookie-file", g.cookie, "--timeout", "30s"}
	return append(append(a, g.flags...), more...)
}

// reports runs preview --json and once against g and returns what each
// says the cluster is, without what differs from one run to the next.
func reports(t *testing.T, g target) (preview, once any) {
	t.Helper()
	state := t.TempDir()
	r := run(t, nil, g.args("preview", "--json", "--state-dir", state)...)
	if r.code != 0 {
		t.Fatalf("preview: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	if err := json.Unmarshal([]byte(r.stdout), &preview); err != nil {
		t.Fatalf("preview --json: %v: %s", err, r.stdout)
	}
	file := filepath.Join(t.TempDir(), "report.json")
	r = run(t, nil, g.args("once", "--report", "--upstream=false", "--report-file", file, "--state-dir", state)...)
	if r.code != 0 {
		t.Fatalf("once: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &once); err != nil {
		t.Fatalf("report file: %v", err)
	}
	return stable(preview), stable(once)
}

// volatile are the keys whose values differ from one run to the next or
// name the node (its cluster id is made per state directory).
var volatile = map[string]bool{"timestamp_micros": true, "client_id": true, "cluster_id": true, "generated_at": true,
	"time": true, "written_at": true, "node": true, "uptime": true, "elapsed_ms": true}

// stable drops the volatile keys of a decoded JSON value.
func stable(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, e := range t {
			if !volatile[k] {
				out[k] = stable(e)
			}
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = stable(e)
		}
		return out
	}
	return v
}

// sameReports fails the test unless the reports of got and want are
// equal.
func sameReports(t *testing.T, got, want target) {
	t.Helper()
	gp, go_ := reports(t, got)
	wp, wo := reports(t, want)
	if !reflect.DeepEqual(gp, wp) {
		t.Errorf("preview over %v differs from plain TCP's:\n got %v\nwant %v", got.flags, gp, wp)
	}
	if !reflect.DeepEqual(go_, wo) {
		t.Errorf("once's report over %v differs from plain TCP's:\n got %v\nwant %v", got.flags, go_, wo)
	}
}

// wantCheck runs check and wants exit 0 with one reachable line per
// member.
func wantCheck(t *testing.T, g target, members ...string) {
	t.Helper()
	r := run(t, nil, g.args("check")...)
	if r.code != 0 {
		t.Fatalf("check %v: exit %d: %s%s", g.flags, r.code, r.stdout, r.stderr)
	}
	for _, m := range members {
		if !strings.Contains(r.stdout, m+"  ") || !strings.Contains(r.stdout, "reachable") {
			t.Errorf("check %v does not list %s as reachable:\n%s", g.flags, m, r.stdout)
		}
	}
}

// wantDiagnosis runs command against g and wants exit 1 and exactly one
// line on stderr that holds every one of want.
func wantDiagnosis(t *testing.T, g target, command string, want ...string) {
	t.Helper()
	r := run(t, nil, g.args(command, "--state-dir", t.TempDir())...)
	if r.code != 1 {
		t.Fatalf("%s %v: exit %d, want 1: %s%s", command, g.flags, r.code, r.stdout, r.stderr)
	}
	text := r.stderr
	if command == "check" {
		text = r.stdout
	}
	t.Logf("%s says: %s", command, strings.TrimSpace(text))
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) != 1 {
		t.Errorf("%s %v: %d lines, want 1:\n%s", command, g.flags, len(lines), text)
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("%s %v: %q does not say %q", command, g.flags, text, w)
		}
	}
	for _, secret := range []string{workDir, g.node.Cookie} {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("%s %v shows a key path or the cookie: %s%s", command, g.flags, r.stdout, r.stderr)
		}
	}
}

// contains reports whether s holds every one of parts.
func contains(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
