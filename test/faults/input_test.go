package faults_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestBadInput (case 5): the binary refuses bad input with exit code 2 and
// exactly one line on stderr that names the problem, before it connects
// anywhere. Cases that depend on permissions run as an unprivileged user
// when the tests run as root (root reads and writes everything).
func TestBadInput(t *testing.T) {
	t.Parallel()
	// A directory everybody can enter, for the files the unprivileged
	// user must reach.
	pub := filepath.Join(workDir, "bad-input")
	if err := os.MkdirAll(pub, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(pub, 0o755)
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(pub, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.cookie", "S3CRETC00KIE\n", 0o400)
	empty := write("empty.cookie", "", 0o400)
	blank := write("blank.cookie", " \n\n", 0o400)
	open := write("open.cookie", "S3CRETC00KIE\n", 0o644)
	groupReadable := write("group.cookie", "S3CRETC00KIE\n", 0o440)
	unreadable := write("unreadable.cookie", "S3CRETC00KIE\n", 0o000)
	aFile := write("not-a-dir", "", 0o644)
	readOnly := filepath.Join(pub, "read-only")
	os.Mkdir(readOnly, 0o555)
	os.Chmod(readOnly, 0o555)
	writable := filepath.Join(pub, "state-writable")
	os.Mkdir(writable, 0o777)
	os.Chmod(writable, 0o777)

	// Every other flag is valid, so the run would go on to connect: the
	// state dir is writable, the cookie readable. The node does not exist:
	// a case that got past validation fails with exit 1, not 2.
	base := func(extra ...string) []string {
		return append([]string{"run", "--report", "--node", "nosuch@localhost", "--cookie-file", good,
			"--state-dir", writable, "--report-file", filepath.Join(writable, "report.json"),
			"--upstream=false", "--tracking-id", trackingID, "--ga-endpoint", "http://127.0.0.1:9"}, extra...)
	}
	cases := []struct {
		name   string
		args   []string
		want   []string // substrings of the one line
		asUser bool     // run as an unprivileged user when root
		env    []string
	}{
		{"unknown flag", base("--nod", "a@b"), []string{"unknown flag --nod:", "--help"}, false, nil},
		{"unknown flag before command", []string{"--frobnicate", "run"}, []string{"unknown flag --frobnicate:"}, false, nil},
		{"timeout without unit", base("--timeout", "5"), []string{"--timeout", `"5" needs a unit`, "5s"}, false, nil},
		{"short and long nodes, before the cookie", base("--node", "b@h.example", "--cookie-file", filepath.Join(pub, "nope")), []string{"mix short and long names", "nosuch@localhost", "b@h.example"}, false, nil},
		{"malformed node name", base("--node", "mongooseim"), []string{"--node", `"mongooseim"`, "name@host"}, false, nil},
		{"node name with a bad character", base("--node", "mongoose im@localhost"), []string{"--node", "before @"}, false, nil},
		{"node name with two @", base("--node", "a@b@c"), []string{"--node", "name@host"}, false, nil},
		{"own name malformed", base("--name", "sidecar"), []string{"--name", "name@host"}, false, nil},
		{"negative interval", base("--periodic-report", "-5"), []string{"periodic-report", "negative"}, false, nil},
		{"negative duration", base("--initial-report", "-1m"), []string{"initial-report", "negative"}, false, nil},
		{"unparsable interval", base("--periodic-report", "soon"), []string{"periodic-report", `"soon"`}, false, nil},
		{"unparsable initial delay", base("--initial-report", "5 minutes"), []string{"initial-report", "5 minutes"}, false, nil},
		{"zero period", base("--periodic-report", "0"), []string{"periodic-report", "positive"}, false, nil},
		{"tracking id of neither form", base("--tracking-id", "XX-123"), []string{"tracking-id", "G-", "UA-"}, false, nil},
		{"GA4 id without secret", base("--tracking-id", "G-ABC123"), []string{"tracking-id", "secret"}, false, nil},
		{"UA id malformed", base("--tracking-id", "UA-123"), []string{"tracking-id", "UA-"}, false, nil},
		{"missing cookie file", base("--cookie-file", filepath.Join(pub, "nope")), []string{"cookie file", "nope", "no such file"}, false, nil},
		{"cookie file is a directory", base("--cookie-file", pub), []string{"cookie file", "directory"}, false, nil},
		{"empty cookie file", base("--cookie-file", empty), []string{"cookie file", "empty"}, false, nil},
		{"blank cookie file", base("--cookie-file", blank), []string{"cookie file", "empty"}, false, nil},
		{"cookie file readable by others", base("--cookie-file", open), []string{"cookie file", "0644", "chmod 400"}, false, nil},
		{"cookie file readable by the group", base("--cookie-file", groupReadable), []string{"cookie file", "0440", "chmod 400"}, false, nil},
		{"unreadable cookie file", base("--cookie-file", unreadable), []string{"cookie file", "permission denied"}, true, nil},
		{"state dir under a file", base("--state-dir", filepath.Join(aFile, "state")), []string{"--state-dir", "not-a-dir"}, false, nil},
		{"state dir not writable", base("--state-dir", readOnly), []string{"--state-dir", "read-only", "not writable"}, true, nil},
		{"negative interval in the environment", base(), []string{"MIM_METRICS_PERIODIC_REPORT", "negative"}, false, []string{"MIM_METRICS_PERIODIC_REPORT=-300000"}},
		{"malformed node in the environment", []string{"run"}, []string{"--node", "name@host"}, false, []string{"MIM_METRICS_NODE=mongooseim@localhost,mongooseim"}},
		{"bad tracking id in the environment", []string{"run", "--node", "nosuch@localhost", "--cookie-file", good, "--state-dir", writable}, []string{"tracking id", `"XX-1"`, "G-"}, false, []string{"MIM_METRICS_TRACKING_ID=G-OK:s3cr3t,XX-1"}},
	}
	root := os.Geteuid() == 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, c.args...)
			cmd.Env = procEnv(t, c.env...)
			cmd.Dir = pub
			if c.asUser && root {
				cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
				cmd.Env = append(cmd.Env[1:], "HOME="+pub)
			}
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			start := time.Now()
			err := cmd.Run()
			code := cmd.ProcessState.ExitCode()
			if err != nil && code <= 0 {
				if cmd.SysProcAttr != nil {
					t.Skipf("cannot run as an unprivileged user here: %v", err)
				}
				t.Fatalf("run: %v", err)
			}
			if code != 2 {
				t.Errorf("exit code %d, want 2\nstderr: %s\nstdout: %s", code, stderr.String(), stdout.String())
			}
			line := stderr.String()
			if !strings.HasSuffix(line, "\n") || strings.Count(line, "\n") != 1 {
				t.Errorf("stderr is not exactly one line: %q", line)
			}
			for _, w := range c.want {
				if !strings.Contains(line, w) {
					t.Errorf("stderr %q does not name %q", line, w)
				}
			}
			if strings.Contains(line, "S3CRETC00KIE") || strings.Contains(line, "faults-secret") {
				t.Errorf("the error shows a secret: %q", line)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v to refuse bad input", d)
			}
		})
	}
}
