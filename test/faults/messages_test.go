package faults_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/test/erltest"
)

// runBinOnce runs the binary to its end (at most 30 s) and returns its
// exit code and output.
func runBinOnce(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = procEnv(t)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("mim-metrics %s did not end within 30 s", strings.Join(args, " "))
	}
	code = cmd.ProcessState.ExitCode()
	if err != nil && code <= 0 {
		t.Fatalf("run: %v", err)
	}
	return code, out.String(), errOut.String()
}

// cookieFile writes cookie to a file of mode 0400 and returns its path.
func cookieFile(t *testing.T, cookie string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "cookie")
	if err := os.WriteFile(p, []byte(cookie+"\n"), 0o400); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestMessagesAUserCanActOn (issue 15, item 7): what the binary says when
// the cluster is not as the user thinks: exactly one line, which names the
// node once, says what is wrong and what to do, and shows no internal
// function name and no secret.
func TestMessagesAUserCanActOn(t *testing.T) {
	t.Parallel()
	// A plain Erlang node (no MongooseIM, no ejabberd) whose name holds
	// the letter of its cookie, "x".
	plain, err := erltest.Start(erltest.Options{Alive: erltest.UniqueName("plain_x"), Cookie: "x"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(plain.Stop)
	// A node whose host part is not the name it is reached by.
	elsewhereAlive := erltest.UniqueName("rv")
	elsewhere, err := erltest.Start(erltest.Options{Alive: elsewhereAlive, Host: "elsewhere-7f3a", Cookie: shared.Cookie})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(elsewhere.Stop)
	xCookie := cookieFile(t, "x")
	state := func() []string { return []string{"--state-dir", t.TempDir()} }

	cases := []struct {
		name string
		args []string
		code int
		want string // the whole of stderr
	}{
		{"preview of a node that is down",
			append([]string{"preview", "--node", "nosuch_msg@localhost", "--cookie-file", sharedCookieFile}, state()...), 1,
			`mim-metrics: node nosuch_msg@localhost unreachable: no node named "nosuch_msg" is registered in EPMD on localhost; the node is not running, or the part before @ is wrong (epmd -names on that host lists the names)`},
		{"a node that runs neither server",
			append([]string{"preview", "--node", plain.Name, "--cookie-file", xCookie, "--name", "b@host.example"}, state()...), 1,
			"mim-metrics: node " + plain.Name + " runs neither MongooseIM nor ejabberd (application:which_applications() lists neither)"},
		{"the host part does not match the node's",
			append([]string{"preview", "--node", elsewhereAlive + "@localhost", "--cookie-file", sharedCookieFile}, state()...), 1,
			"mim-metrics: node " + elsewhereAlive + `@localhost unreachable: the node registered as "` + elsewhereAlive + `" on localhost is named ` +
				elsewhere.Name + "; give its full name: --node " + elsewhere.Name},
		{"wrong cookie",
			append([]string{"preview", "--node", shared.Name, "--cookie", "WRONGCOOKIE7f3a"}, state()...), 1,
			"mim-metrics: node " + shared.Name + " refused the connection: wrong cookie; give the cluster's cookie with --cookie-file or MIM_METRICS_COOKIE"},
		{"check of a node that runs neither server",
			[]string{"check", "--node", plain.Name, "--cookie-file", xCookie}, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runBinOnce(t, c.args...)
			t.Logf("stderr: %s", stderr)
			if code != c.code {
				t.Errorf("exit code %d, want %d", code, c.code)
			}
			want := c.want
			if want != "" {
				want += "\n"
			}
			if stderr != want {
				t.Errorf("stderr:\n%q\nwant:\n%q", stderr, want)
			}
			if c.args[0] == "preview" && stdout != "" {
				t.Errorf("a preview of no node printed %q", stdout)
			}
			for _, bad := range []string{"hidden", "WRONGCOOKIE7f3a", "erl_eval", "rpc ", "short and long"} {
				if strings.Contains(stdout+stderr, bad) {
					t.Errorf("the output says %q", bad)
				}
			}
			if c.args[0] == "check" && !strings.Contains(stdout, plain.Name) || strings.Contains(stdout, "reachable") && !strings.Contains(stdout, "runs neither MongooseIM nor ejabberd") {
				t.Errorf("check says %q", stdout)
			}
		})
	}
}

// TestPreviewOfAHungNode: a node that never answers is reported once, as
// late, within --timeout.
func TestPreviewOfAHungNode(t *testing.T) {
	t.Parallel()
	n, cookie := startHungNode(t)
	start := time.Now()
	code, stdout, stderr := runBinOnce(t, "preview", "--node", n.Name, "--cookie-file", cookie, "--timeout", "1s", "--state-dir", t.TempDir())
	took := time.Since(start)
	want := "mim-metrics: node " + n.Name + " did not answer in time; --timeout sets the time limit\n"
	if code != 1 || stderr != want || stdout != "" {
		t.Errorf("exit %d, stderr %q, stdout %q; want exit 1 and %q", code, stderr, stdout, want)
	}
	if took > 10*time.Second {
		t.Errorf("a 1 s timeout took %v", took)
	}
}
