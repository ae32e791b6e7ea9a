package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// runMain runs Main and returns the exit code and what it printed.
func runMain(t *testing.T, args []string, vars map[string]string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	code := Main(ctx, args, env(vars), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestBadInputIsOneLineAndExitTwo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o400)
	open := filepath.Join(dir, "open")
	os.WriteFile(open, []byte("COOKIE"), 0o644)
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"unknown flag", []string{"check", "--nod", "a@b"}, nil, "mim-metrics: unknown flag --nod: mim-metrics --help lists the flags\n"},
		{"unknown flag, one dash", []string{"-bogus"}, nil, "mim-metrics: unknown flag --bogus: mim-metrics --help lists the flags\n"},
		{"flag without its value", []string{"check", "--node"}, nil, "mim-metrics: --node needs a value: --node VALUE or --node=VALUE\n"},
		{"bad boolean", []string{"check", "--node", "a@b", "--discover=maybe"}, nil, `mim-metrics: --discover takes true or false (--discover=false), got "maybe"` + "\n"},
		{"bad boolean in env", []string{"check", "--node", "a@b"}, map[string]string{"MIM_METRICS_DISCOVER": "yes"}, `mim-metrics: MIM_METRICS_DISCOVER takes true or false, got "yes"` + "\n"},
		{"timeout without unit", []string{"check", "--node", "a@b", "--timeout", "5"}, nil, `mim-metrics: --timeout: "5" needs a unit: write 5s for seconds or 5ms for milliseconds` + "\n"},
		{"timeout without unit in env", []string{"check", "--node", "a@b"}, map[string]string{"MIM_METRICS_TIMEOUT": "5"}, `mim-metrics: MIM_METRICS_TIMEOUT: "5" needs a unit: write 5s for seconds or 5ms for milliseconds` + "\n"},
		{"timeout not a duration", []string{"check", "--node", "a@b", "--timeout", "soon"}, nil, `--timeout: "soon" is not a duration: write it with its unit, e.g. 30s, 2m or 1m30s`},
		{"zero timeout", []string{"check", "--node", "a@b", "--timeout", "0s"}, nil, "--timeout must be positive"},
		// Before the cookie is read: the cookie file does not exist.
		{"short and long nodes", []string{"check", "--node", "a@h1", "--node", "b@h2.example", "--cookie-file", filepath.Join(dir, "nope")}, nil,
			"mim-metrics: --node a@h1 and --node b@h2.example mix short and long names: an Erlang cluster uses one kind; give the names as the nodes were started (-sname or -name)\n"},
		{"unknown command", []string{"chek"}, nil, `unknown command "chek"`},
		{"no node", []string{"check"}, nil, "no node given"},
		{"malformed node", []string{"check", "--node", "mongooseim"}, nil, "expected name@host"},
		{"malformed node in env", []string{"check"}, map[string]string{"MIM_METRICS_NODE": "a@b,bad"}, "expected name@host"},
		{"negative interval", []string{"--node", "a@b", "--periodic-report", "-5"}, nil, "periodic-report"},
		{"unparsable interval", []string{"--node", "a@b", "--initial-report", "soon"}, nil, "initial-report"},
		{"zero period", []string{"--node", "a@b", "--periodic-report", "0"}, nil, "must be positive"},
		{"bad tracking id", []string{"--node", "a@b", "--tracking-id", "XX-123"}, nil, "tracking-id"},
		{"bad endpoint", []string{"--node", "a@b", "--ga-endpoint", "ftp://x"}, nil, "ga-endpoint"},
		{"bad log format", []string{"--node", "a@b", "--log-format", "xml"}, nil, "log-format"},
		{"stray argument", []string{"check", "--node", "a@b", "extra"}, nil, "unexpected argument"},
		{"missing cookie file", []string{"check", "--node", "a@localhost", "--cookie-file", filepath.Join(dir, "nope")}, nil, "cannot read the cookie file"},
		{"empty cookie file", []string{"check", "--node", "a@localhost", "--cookie-file", empty}, nil, "is empty"},
		{"cookie file readable by others", []string{"check", "--node", "a@localhost", "--cookie-file", open}, nil, "chmod 400"},
		{"state dir not writable", []string{"once", "--report", "--node", "a@localhost", "--cookie", "x", "--state-dir", filepath.Join(empty, "sub")}, nil, "state-dir"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runMain(t, c.args, c.env)
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr: %s", code, stderr)
			}
			if !strings.Contains(stderr, c.want) {
				t.Errorf("stderr %q does not say %q", stderr, c.want)
			}
			if n := strings.Count(strings.TrimRight(stderr, "\n"), "\n"); n != 0 {
				t.Errorf("error is %d lines, want one: %q", n+1, stderr)
			}
		})
	}
}

func TestCookieNeverInErrors(t *testing.T) {
	t.Parallel()
	_, stdout, stderr := runMain(t, []string{"check", "--node", "nosuch_7f3a@localhost", "--cookie", "SECRETCOOKIE7f3a", "--timeout", "3s"}, nil)
	if strings.Contains(stdout+stderr, "SECRETCOOKIE7f3a") {
		t.Errorf("the cookie appears in the output:\n%s\n%s", stdout, stderr)
	}
	// Nothing is masked either: with the cookie "x", names keep their x.
	_, stdout, stderr = runMain(t, []string{"preview", "--node", "nosuch_x7f3a@localhost", "--cookie", "x", "--timeout", "3s"}, nil)
	if !strings.Contains(stderr, "node nosuch_x7f3a@localhost unreachable") || strings.Contains(stdout+stderr, "hidden") {
		t.Errorf("the message is masked or lacks the node name:\n%s\n%s", stdout, stderr)
	}
}

func TestHelpListsOurFlagsOnly(t *testing.T) {
	t.Parallel()
	code, _, stderr := runMain(t, []string{"--help"}, nil)
	if code != 0 {
		t.Errorf("--help exits %d", code)
	}
	if strings.Contains(stderr, "ergo") {
		t.Errorf("--help shows ergo's flags:\n%s", stderr)
	}
	for _, f := range []string{"--node", "--cookie-file", "MIM_METRICS_COOKIE", "--report", "--no-report", "--tracking-id", "--discover", "--state-dir", "--log-format", "Exit codes"} {
		if !strings.Contains(stderr, f) {
			t.Errorf("--help does not mention %s", f)
		}
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, _ := runMain(t, args, nil)
		if code != 0 || !strings.HasPrefix(out, "mim-metrics ") {
			t.Errorf("%v: exit %d, %q", args, code, out)
		}
	}
}

func TestNoReportExitsWithoutConnecting(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		args []string
		env  map[string]string
	}{
		"flag":         {[]string{"--node", "nosuch@localhost", "--cookie", "x", "--no-report"}, nil},
		"DO_NOT_TRACK": {[]string{"--node", "nosuch@localhost", "--cookie", "x"}, map[string]string{"DO_NOT_TRACK": "1"}},
	} {
		code, out, errOut := runMain(t, c.args, c.env)
		if code != 0 {
			t.Errorf("%s: exit %d: %s", name, code, errOut)
		}
		if !strings.Contains(out, "reporting is off") || strings.Count(strings.TrimSpace(out), "\n") != 0 {
			t.Errorf("%s: want one line saying reporting is off, got %q", name, out)
		}
		if name == "DO_NOT_TRACK" && !strings.Contains(out, "DO_NOT_TRACK") {
			t.Errorf("the log does not say DO_NOT_TRACK decided: %q", out)
		}
	}
}

func TestEnvironmentFillsFlagsAndFlagsWin(t *testing.T) {
	t.Parallel()
	c, err := parseArgs([]string{"--log-level", "warn"}, env(map[string]string{
		"MIM_METRICS_NODE":            "a@h1,b@h1",
		"MIM_METRICS_LOG_LEVEL":       "debug",
		"MIM_METRICS_PERIODIC_REPORT": "60000",
		"MIM_METRICS_DISCOVER":        "false",
	}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.nodes) != 2 || c.nodes[1] != "b@h1" {
		t.Errorf("nodes = %v", c.nodes)
	}
	if c.logLevel != "warn" {
		t.Errorf("log level %q: the flag must win over the environment", c.logLevel)
	}
	if c.periodicReport != time.Minute {
		t.Errorf("periodic report %v, want 60000 ms = 1m", c.periodicReport)
	}
	if c.discover {
		t.Error("MIM_METRICS_DISCOVER=false ignored")
	}
}

func TestCookieSources(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "cookie")
	os.WriteFile(file, []byte("FROMFILE\n"), 0o400)
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"--node", "a@b", "--cookie-file", file}, nil, "FROMFILE"},
		{[]string{"--node", "a@b", "--cookie", "FROMFLAG", "--cookie-file", file}, nil, "FROMFLAG"},
		{[]string{"--node", "a@b"}, map[string]string{"MIM_METRICS_COOKIE": "FROMENV", "MIM_METRICS_COOKIE_FILE": file}, "FROMENV"},
		{[]string{"--node", "a@b", "--cookie-file", file}, map[string]string{"MIM_METRICS_COOKIE": "FROMENV"}, "FROMFILE"},
	}
	for i, c := range cases {
		cfg, err := parseArgs(c.args, env(c.env), &bytes.Buffer{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := readCookie(cfg)
		if err != nil || got != c.want {
			t.Errorf("case %d: cookie %q, %v; want %q", i, got, err, c.want)
		}
	}
}

// --receiver: a bad URL is one line naming the problem, exit 2, never the
// secret; MIM_METRICS_RECEIVER takes a comma-separated list.
func TestReceiverFlag(t *testing.T) {
	t.Parallel()
	const secret = "RecvSecret-7f3a-Value"
	bad := []struct{ url, want string }{
		{"https://metrics.example.org", "the property id is missing"},
		{"https://G-OWN@metrics.example.org", "the API secret is missing"},
		{"ftp://G-OWN:" + secret + "@metrics.example.org", "the scheme must be https"},
		{"http://G-OWN:" + secret + "@metrics.example.org", "loopback"},
		{"https://G-OWN:" + secret + "%zz@metrics.example.org", "does not parse"},
	}
	for _, c := range bad {
		for _, how := range []string{"flag", "env"} {
			args, vars := []string{"once", "--node", "a@b", "--receiver", c.url}, map[string]string(nil)
			if how == "env" {
				args, vars = []string{"once", "--node", "a@b"}, map[string]string{"MIM_METRICS_RECEIVER": "http://G-OK:ok-secret@127.0.0.1:9," + c.url}
			}
			code, stdout, stderr := runMain(t, args, vars)
			if code != 2 || !strings.Contains(stderr, "--receiver") || !strings.Contains(stderr, c.want) {
				t.Errorf("%s %q: exit %d, stderr %q; want 2 and %q", how, c.url, code, stderr, c.want)
			}
			if strings.Count(strings.TrimRight(stderr, "\n"), "\n") != 0 || strings.Contains(stdout+stderr, secret) {
				t.Errorf("%s %q: not one line, or the secret shows: %q", how, c.url, stderr)
			}
		}
	}
	c, err := parseArgs([]string{"once", "--node", "a@b"}, env(map[string]string{
		"MIM_METRICS_RECEIVER": "https://G-ONE:" + secret + "@m1.example.org, http://G-TWO:" + secret + "@127.0.0.1:8080/p",
	}), &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := reportingConfig(c, env(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(cfg.Targets.Receivers)
	if got != "[GA4 G-ONE at https://m1.example.org (your receiver) GA4 G-TWO at http://127.0.0.1:8080/p (your receiver)]" {
		t.Errorf("receivers from the environment: %s", got)
	}
	code, _, stderr := runMain(t, []string{"--help"}, nil)
	if code != 0 || !strings.Contains(stderr, "--receiver  [MIM_METRICS_RECEIVER]") {
		t.Errorf("--help does not list --receiver:\n%s", stderr)
	}
}
