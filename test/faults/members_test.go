package faults_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/mim-metrics/mim-metrics/test/erltest"
)

// recordedMember is a member of a two-node cluster that a test stops,
// starts again and removes from the cluster.
type recordedMember struct {
	name  string
	stop  func(t *testing.T)
	start func(t *testing.T) // and wait until the seed is connected to it again
	leave func(t *testing.T) // remove it from the cluster, and stop it
}

// memberView is what the operator sees of the member: its
// mim_metrics_node_up series, mim_metrics_nodes, the report file's entry
// for it, and the warnings and info lines about it so far.
type memberView struct {
	up         float64
	upPresent  bool
	up2, down2 float64 // mim_metrics_nodes{state}
	inFile     bool
	fileDown   bool
	fileError  string
	warnings   int // "is a member of the cluster but not running"
	backAgain  int // "is running again"
}

func (v memberView) String() string {
	return fmt.Sprintf("node_up %v (present %v), nodes up %v down %v, report file: present %v down %v error %q, %d warnings, %d back",
		v.up, v.upPresent, v.up2, v.down2, v.inFile, v.fileDown, v.fileError, v.warnings, v.backAgain)
}

func (r *metricsRun) view(t *testing.T, name string) memberView {
	t.Helper()
	s := r.scrape(t)
	var v memberView
	up := s.series(t, "mim_metrics_node_up", dto.MetricType_GAUGE)
	v.up, v.upPresent = up["node="+name]
	nodes := s.series(t, "mim_metrics_nodes", dto.MetricType_GAUGE)
	v.up2, v.down2 = nodes["state=up"], nodes["state=down"]
	if b, err := os.ReadFile(filepath.Join(r.dir, "report.json")); err == nil {
		var f struct {
			Nodes []struct {
				Node  string `json:"node"`
				Down  bool   `json:"down"`
				Error string `json:"error"`
			} `json:"nodes"`
		}
		if err := json.Unmarshal(b, &f); err == nil {
			for _, n := range f.Nodes {
				if n.Node == name {
					v.inFile, v.fileDown, v.fileError = true, n.Down, n.Error
				}
			}
		}
	}
	for _, l := range strings.Split(r.p.stdout.String(), "\n") {
		var e struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if json.Unmarshal([]byte(l), &e) != nil {
			continue
		}
		switch {
		case e.Level == "warn" && strings.HasPrefix(e.Msg, name+" is a member of the cluster but not running: last collected "):
			v.warnings++
		case e.Level == "info" && strings.HasPrefix(e.Msg, name+" is running again"):
			v.backAgain++
		}
	}
	return v
}

// waitView polls the operator's view of the member until ok holds, for at
// most a minute.
func (r *metricsRun) waitView(t *testing.T, what, name string, ok func(memberView) bool) memberView {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		v := r.view(t, name)
		if ok(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within a minute: %s\n%s", what, v, tail(r.p.stdout.String(), 20))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkLine runs `mim-metrics check` against the seed and returns its
// exit code and the line about name.
func checkLine(t *testing.T, seed, cookie, name string) (int, string) {
	t.Helper()
	code, stdout, stderr := runBinOnce(t, "check", "--node", seed, "--cookie-file", cookieFile(t, cookie))
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, name+" ") {
			return code, l
		}
	}
	t.Fatalf("check lists no line for %s:\n%s%s", name, stdout, stderr)
	return 0, ""
}

// downMemberTold runs the sidecar against seed, reporting every 500 ms,
// and stops m, starts it again and removes it from the cluster: the
// operator is told once that it is down (a warning naming it, node_up 0,
// counted down, check's line, the report file), once that it is back, and
// nothing when it leaves; /readyz stays ready throughout.
func downMemberTold(t *testing.T, seed, cookie string, m recordedMember) {
	r := startWithMetrics(t, &cluster{cookie: cookie, nodes: []*erltest.Node{{Name: seed}}}, "--periodic-report=500ms")
	r.waitView(t, "both collected", m.name, func(v memberView) bool { return v.up == 1 && v.up2 == 2 && v.inFile && v.fileError == "" })
	if code, line := checkLine(t, seed, cookie, m.name); code != 0 || !strings.Contains(line, "reachable") {
		t.Errorf("check while running: exit %d, %q", code, line)
	}

	m.stop(t)
	v := r.waitView(t, "down", m.name, func(v memberView) bool { return v.warnings > 0 && v.fileDown })
	if !v.upPresent || v.up != 0 || v.down2 != 1 || v.up2 != 1 {
		t.Errorf("down: %s; want node_up 0, one node up and one down", v)
	}
	if !strings.Contains(v.fileError, m.name+" is a member of the cluster but not running") {
		t.Errorf("down: the report file's error is %q", v.fileError)
	}
	code, line := checkLine(t, seed, cookie, m.name)
	t.Logf("check while down: %s", line)
	t.Logf("report file while down: %s", v.fileError)
	if f := strings.Fields(line); code != 1 || len(f) < 2 || f[1] != "down" || !strings.Contains(line, "is a member of the cluster but not running") {
		t.Errorf("check while down: exit %d, %q; want 1 and a line saying down and why", code, line)
	}
	// Ready: the seed is collected. A cycle of 500 ms that a busy machine
	// cancels at the next tick collects nothing, so within 30 s, not at
	// once.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		code, body := httpGet(t, r.addr, "/readyz")
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("/readyz while a member is down: %d %s for 30 s; want ready (a node was collected)", code, body)
			break
		}
	}
	time.Sleep(2 * time.Second) // a few more cycles: told once
	if v := r.view(t, m.name); v.warnings != 1 || v.up != 0 {
		t.Errorf("still down: %s; want one warning in all", v)
	}

	m.start(t)
	v = r.waitView(t, "back", m.name, func(v memberView) bool { return v.backAgain > 0 && v.up == 1 && v.inFile && v.fileError == "" })
	if v.down2 != 0 || v.up2 != 2 || v.fileDown || v.warnings != 1 {
		t.Errorf("back: %s", v)
	}
	if code, line := checkLine(t, seed, cookie, m.name); code != 0 || !strings.Contains(line, "reachable") {
		t.Errorf("check when back: exit %d, %q", code, line)
	}

	m.leave(t)
	v = r.waitView(t, "left the cluster", m.name, func(v memberView) bool { return !v.upPresent && !v.inFile })
	if v.down2 != 0 || v.up2 != 1 || v.warnings != 1 || v.backAgain != 1 {
		t.Errorf("left the cluster: %s; want it gone without a warning", v)
	}
}

// TestDownMemberToldMnesia: a MongooseIM 6.2.1 fixture cluster clustered
// with Mnesia; leaving is what mongooseimctl leave_cluster does (Mnesia
// stopped on the leaver, its schema copy deleted on the others).
func TestDownMemberToldMnesia(t *testing.T) {
	t.Parallel()
	cookie := erltest.RandomCookie()
	a, b := erltest.StartTwoNodesT(t, "mim-6.2.1", erltest.TwoNodes{Cookie: cookie, Join: erltest.JoinMnesia})
	eval := func(t *testing.T, n *erltest.Node, expr, want string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if out, err := n.Eval(ctx, expr); err != nil || out != want {
			t.Fatalf("%s on %s: %v %s, want %s", expr, n.Name, err, out, want)
		}
	}
	downMemberTold(t, a.Name, cookie, recordedMember{
		name: b.Name,
		stop: func(t *testing.T) { b.Kill() },
		start: func(t *testing.T) {
			if err := b.Restart(); err != nil {
				t.Fatal(err)
			}
			waitMembers(t, a, []string{a.Name, b.Name})
		},
		leave: func(t *testing.T) {
			eval(t, b, "mnesia:stop()", "stopped")
			eval(t, a, "mnesia:del_table_copy(schema, '"+b.Name+"')", "{atomic,ok}")
			b.Kill()
		},
	})
}

// TestDownMemberToldEjabberd: two real ejabberd nodes joined with
// ejabberdctl join_cluster; the member leaves with ejabberdctl
// leave_cluster.
func TestDownMemberToldEjabberd(t *testing.T) {
	if !erltest.EjabberdAvailable() {
		t.Skip("ejabberd not installed")
	}
	t.Parallel()
	cookie := erltest.RandomCookie()
	a, err := erltest.StartEjabberd(erltest.EjabberdOptions{Cookie: cookie})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Stop)
	b, err := erltest.StartEjabberd(erltest.EjabberdOptions{Cookie: cookie, KeepDir: true})
	if err != nil {
		t.Fatal(err)
	}
	bDir := b.Dir()
	t.Cleanup(func() { b.Stop(); os.RemoveAll(bDir) })
	ctl := func(t *testing.T, on *erltest.Ejabberd, args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if out, err := on.CtlCommand(ctx, args...).CombinedOutput(); err != nil {
			t.Fatalf("ejabberdctl %s on %s: %v\n%s\n%s", strings.Join(args, " "), on.Name(), err, out, on.LogTail(20))
		}
	}
	connected := func(t *testing.T, want string) {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			out, err := a.Eval(ctx, "{lists:member('"+b.Name()+"', nodes()), lists:member('"+b.Name()+"', mnesia:system_info(running_db_nodes))}")
			cancel()
			if err == nil && out == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s on %s: %v %s, want %s", "connected", a.Name(), err, out, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	ctl(t, b, "join_cluster", a.Name())
	connected(t, "{true,true}")
	downMemberTold(t, a.Name(), cookie, recordedMember{
		name: b.Name(),
		stop: func(t *testing.T) { b.Stop() },
		start: func(t *testing.T) {
			if err := b.Restart(); err != nil {
				t.Fatal(err)
			}
			connected(t, "{true,true}")
		},
		leave: func(t *testing.T) {
			ctl(t, b, "leave_cluster", b.Name())
			connected(t, "{false,false}")
		},
	})
}
