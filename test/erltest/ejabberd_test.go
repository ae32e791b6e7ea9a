package erltest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestEjabberd starts Debian's ejabberd once and asks it what the collector
// will ask in 23.01. The answers are written to
// test/ejabberd/answers-<version>.txt for reference.
func TestEjabberd(t *testing.T) {
	if !EjabberdAvailable() {
		t.Skip("ejabberd not installed (apt-get install -y ejabberd erlang-base)")
	}
	// No TestMain here (the package's own may come later): stop the private
	// EPMD too when this test started it and no other node uses it.
	epmdMu.Lock()
	ownEPMD := epmdCmd == nil
	epmdMu.Unlock()
	t.Cleanup(func() {
		CleanupEjabberd()
		epmdMu.Lock()
		idle := len(started) == 0
		epmdMu.Unlock()
		if ownEPMD && idle {
			Cleanup()
		}
	})

	e, err := StartEjabberd(EjabberdOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ejabberd %s started in %s (dir %s, ports %+v)", e.Name(), e.StartDuration.Round(time.Millisecond), e.Dir(),
		[]int{e.Config.C2SPort, e.Config.HTTPPort, e.Config.ServicePort})
	pid := e.Pid()

	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()

	h1 := `<<"` + EjabberdHost1 + `">>`
	h2 := `<<"` + EjabberdHost2 + `">>`
	calls := []struct {
		expr  string
		check func(t *testing.T, got string)
	}{
		{"ejabberd_option:hosts()", func(t *testing.T, got string) {
			mustContain(t, got, EjabberdHost1, EjabberdHost2)
		}},
		{"gen_mod:loaded_modules(" + h1 + ")", func(t *testing.T, got string) {
			mustContain(t, got, "mod_roster", "mod_muc", "mod_bosh", "mod_version", EjabberdCustomModule)
		}},
		{"gen_mod:loaded_modules(" + h2 + ")", func(t *testing.T, got string) {
			mustContain(t, got, "mod_roster", "mod_muc")
			if strings.Contains(got, "mod_version") || strings.Contains(got, EjabberdCustomModule) {
				t.Errorf("host 2 should not load mod_version nor the custom module: %s", got)
			}
		}},
		{"gen_mod:get_module_opts(" + h1 + ", mod_roster)", func(t *testing.T, got string) {
			mustContain(t, got, "db_type => mnesia")
		}},
		{"maps:get(db_type, gen_mod:get_module_opts(" + h1 + ", mod_roster))", func(t *testing.T, got string) {
			mustEqual(t, got, "mnesia")
		}},
		{"ejabberd_option:listen()", func(t *testing.T, got string) {
			mustContain(t, got, "ejabberd_c2s", "ejabberd_http", "ejabberd_service", "mod_bosh", "mod_http_api",
				"ejabberd_http_ws", "{127,0,0,1}", strconv.Itoa(e.Config.C2SPort))
		}},
		{"ejabberd_cluster:get_nodes()", func(t *testing.T, got string) {
			mustEqual(t, got, "["+e.Name()+"]")
		}},
		{"ejabberd_option:version()", func(t *testing.T, got string) {
			mustContain(t, got, "<<\"")
		}},
		{"statistics(wall_clock)", func(t *testing.T, got string) {
			mustContain(t, got, "{")
		}},
		{"code:lib_dir(ejabberd)", func(t *testing.T, got string) {
			mustContain(t, got, "ejabberd-")
		}},
		{"code:which(mod_roster)", func(t *testing.T, got string) {
			mustContain(t, got, "ejabberd-", "/ebin/mod_roster.beam")
		}},
		{"lists:prefix(code:lib_dir(ejabberd), code:which(mod_roster))", func(t *testing.T, got string) {
			mustEqual(t, got, "true")
		}},
		{"code:which(" + EjabberdCustomModule + ")", func(t *testing.T, got string) {
			mustContain(t, got, filepath.Join(e.Dir(), "ebin"))
		}},
		{"lists:prefix(code:lib_dir(ejabberd), code:which(" + EjabberdCustomModule + "))", func(t *testing.T, got string) {
			mustEqual(t, got, "false")
		}},
		{"gen_mod:is_loaded(" + h1 + ", " + EjabberdCustomModule + ")", func(t *testing.T, got string) {
			mustEqual(t, got, "true")
		}},
		{"gen_mod:is_loaded(" + h2 + ", " + EjabberdCustomModule + ")", func(t *testing.T, got string) {
			mustEqual(t, got, "false")
		}},
		{"[{N, V} || {N, _, V} <- application:which_applications(), N == ejabberd]", func(t *testing.T, got string) {
			mustContain(t, got, "{ejabberd,")
		}},
	}
	var answers strings.Builder
	for _, c := range calls {
		got, err := e.Eval(ctx, c.expr)
		if err != nil {
			t.Fatalf("%s: %v: %s\n%s", c.expr, err, got, e.LogTail(30))
		}
		t.Logf("%s\n%s", c.expr, got)
		fmt.Fprintf(&answers, "%% %s\n%s\n\n", c.expr, got)
		c.check(t, got)
	}
	if out, err := e.CtlCommand(ctx, "status").CombinedOutput(); err != nil || !strings.Contains(string(out), "is running in that node") {
		t.Errorf("ejabberdctl status: %v: %s", err, out)
	}

	if !t.Failed() {
		version, _ := e.Eval(ctx, "binary_to_list(ejabberd_option:version())")
		version = strings.Trim(version, `"`)
		version, _, _ = strings.Cut(version, "-") // "23.01-1": Debian's revision
		header := fmt.Sprintf("%% Answers of Debian's ejabberd %s (OTP %s) to the calls the collector makes,\n"+
			"%% printed with ~p by TestEjabberd (test/erltest/ejabberd_test.go). What varies per run\n"+
			"%% (node name, directory, ports, password, times) is replaced by <...>.\n\n",
			version, strings.Trim(mustEval(t, ctx, e, "erlang:system_info(otp_release)"), `"`))
		path := filepath.Join(ejabberdTemplateDir(), "answers-"+version+".txt")
		content := []byte(header + stableAnswers(answers.String(), e))
		if old, err := os.ReadFile(path); err != nil || !bytes.Equal(old, content) {
			if err := os.WriteFile(path, content, 0o644); err != nil {
				t.Logf("answers not recorded: %v", err) // read-only checkout
			} else {
				t.Logf("answers recorded in %s", path)
			}
		}
	}

	began := time.Now()
	if err := e.Restart(); err != nil {
		t.Fatal(err)
	}
	t.Logf("restarted in %s (start %s)", time.Since(began).Round(time.Millisecond), e.StartDuration.Round(time.Millisecond))
	if got := mustEval(t, ctx, e, "gen_mod:is_loaded("+h1+", "+EjabberdCustomModule+")"); got != "true" {
		t.Errorf("custom module after Restart: %s", got)
	}
	if e.Pid() == pid {
		t.Errorf("same pid %d after Restart", pid)
	}
	pids := []int{pid, e.Pid()}

	began = time.Now()
	dir := e.Dir()
	e.Stop()
	t.Logf("stopped in %s", time.Since(began).Round(time.Millisecond))
	for _, pid := range pids {
		if pid != 0 && syscall.Kill(pid, 0) == nil {
			t.Errorf("beam pid %d still alive after Stop", pid)
		}
	}
	if left := processesMentioning(e.Name(), dir); len(left) > 0 {
		t.Errorf("processes left after Stop: %v", left)
	}
	if names, err := EPMDNames(); err == nil && strings.Contains(names, strings.Split(e.Name(), "@")[0]) {
		t.Errorf("still in EPMD after Stop: %s", names)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("directory %s not removed: %v", dir, err)
	}
}

// stableAnswers replaces what varies per run, so that the answers file
// only changes when ejabberd's answers do.
func stableAnswers(s string, e *Ejabberd) string {
	s = strings.NewReplacer(
		e.Name(), "<node>",
		e.Dir(), "<dir>",
		strconv.Itoa(e.Config.C2SPort), "<c2s_port>",
		strconv.Itoa(e.Config.HTTPPort), "<http_port>",
		strconv.Itoa(e.Config.ServicePort), "<service_port>",
		e.Config.ServicePassword, "<password>",
	).Replace(s)
	return regexp.MustCompile(`(statistics\(wall_clock\)\n)\{\d+,\d+\}`).
		ReplaceAllString(s, "${1}{<ms since start>,<ms since last call>}")
}

func mustEval(t *testing.T, ctx context.Context, e *Ejabberd, expr string) string {
	t.Helper()
	got, err := e.Eval(ctx, expr)
	if err != nil {
		t.Fatalf("%s: %v: %s", expr, err, got)
	}
	return got
}

func mustContain(t *testing.T, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("want %q in %s", w, got)
		}
	}
}

func mustEqual(t *testing.T, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// processesMentioning lists the pids whose command line contains any of
// the strings.
func processesMentioning(subs ...string) []string {
	var found []string
	entries, _ := os.ReadDir("/proc")
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "cmdline"))
		if err != nil {
			continue
		}
		cl := strings.ReplaceAll(string(b), "\x00", " ")
		for _, s := range subs {
			if s != "" && strings.Contains(cl, s) {
				found = append(found, fmt.Sprintf("%d: %s", pid, cl))
				break
			}
		}
	}
	return found
}
