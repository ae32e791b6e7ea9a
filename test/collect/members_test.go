package collect_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/node"
	"github.com/mim-metrics/mim-metrics/test/erltest"
)

// mnesiaGenerations are the fixtures of the generations whose clusters
// are Mnesia's (from 6.3.0 the fixtures run CETS).
func mnesiaGenerations(t *testing.T) []string {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(fixturesDir, "mim-*"))
	var out []string
	for _, d := range dirs {
		era := filepath.Base(d)
		if era < "mim-6.3" {
			out = append(out, era)
		}
	}
	if len(out) < 8 {
		t.Fatalf("found %d Mnesia generations: %v", len(out), out)
	}
	return out
}

// evalUntil evaluates expr on n until its printed value satisfies ok, for
// at most 30 s.
func evalUntil(t *testing.T, n *erltest.Node, expr string, ok func(string) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := n.Eval(ctx, expr)
		cancel()
		if err == nil && ok(out) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s on %s: %v %s", expr, n.Name, err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDownMemberEveryGeneration: in a two-node Mnesia cluster of every
// generation, a member that stops is reported down (recorded in db_nodes,
// not running) and costs no call; it is collected again when it is back;
// once removed from the cluster it is no longer reported. The running
// seed's report is the plain one throughout: one round trip a
// collection, its own node_number.
func TestDownMemberEveryGeneration(t *testing.T) {
	for _, era := range mnesiaGenerations(t) {
		t.Run(era, func(t *testing.T) {
			t.Parallel()
			cookie := erltest.RandomCookie()
			a, b := erltest.StartTwoNodesT(t, era, erltest.TwoNodes{Cookie: cookie,
				A: erltest.Options{Eval: "ok = mnesia:start()"}, Join: erltest.JoinMnesia})
			cl, err := node.Start(context.Background(), node.Options{Seeds: []string{a.Name}, Cookie: cookie, Discover: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(cl.Close)
			core, logs := observer.New(zap.WarnLevel)
			col := metrics.NewCollector(cl, zap.New(core))
			collect := func(what, want string, nodeNumber int64) map[string]metrics.NodeReport {
				t.Helper()
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				reps, err := col.Collect(ctx)
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				got := map[string]metrics.NodeReport{}
				var states []string
				for _, r := range reps {
					got[r.Node] = r
					state := "up"
					switch {
					case r.Down:
						state = "down"
						if !node.IsNotRunning(r.Err) || !strings.Contains(r.Err.Error(), r.Node+" is a member of the cluster but not running") {
							t.Errorf("%s: %s is down with %v", what, r.Node, r.Err)
						}
					case r.Err != nil:
						state = "failed"
						t.Errorf("%s: %s: %v", what, r.Node, r.Err)
					}
					name := "a"
					if r.Node == b.Name {
						name = "b"
					}
					states = append(states, name+":"+state)
				}
				if s := strings.Join(states, " "); s != want {
					t.Errorf("%s: %s, want %s", what, s, want)
				}
				if cl := findEvents(got[a.Name].Events, "cluster"); len(cl) != 1 || cl[0].Params["node_number"] != nodeNumber {
					t.Errorf("%s: the seed's cluster event %v, want node_number %d", what, cl, nodeNumber)
				}
				return got
			}
			wantA := "a:up b:up"
			if a.Name > b.Name {
				wantA = "b:up a:up"
			}
			bDown := strings.ReplaceAll(wantA, "b:up", "b:down")
			collect("both running", wantA, 2)

			b.Kill()
			evalUntil(t, a, "lists:member('"+b.Name+"', mnesia:system_info(running_db_nodes))", func(s string) bool { return s == "false" })
			collect("b stopped", bDown, 1)
			aCalls, bCalls := cl.Stats(a.Name).Calls, cl.Stats(b.Name).Calls
			collect("b still stopped", bDown, 1)
			if n := cl.Stats(a.Name).Calls - aCalls; n != 1 {
				t.Errorf("b still stopped: %d round trips to a, want 1", n)
			}
			if n := cl.Stats(b.Name).Calls - bCalls; n != 0 {
				t.Errorf("b still stopped: %d calls to b, want none", n)
			}

			if err := b.Restart(); err != nil {
				t.Fatal(err)
			}
			evalUntil(t, a, "lists:member('"+b.Name+"', nodes())", func(s string) bool { return s == "true" })
			collect("b back", wantA, 2)

			b.Kill()
			evalUntil(t, a, "mnesia:del_table_copy(schema, '"+b.Name+"')", func(s string) bool { return s == "{atomic,ok}" })
			got := collect("b removed from the cluster", "a:up", 1)
			if _, ok := got[b.Name]; ok {
				t.Errorf("b, removed, is still reported")
			}
			for _, e := range logs.All() {
				t.Errorf("warning: %s", e.Message)
			}
		})
	}
}

// TestDownMemberCETS: in a two-node cluster of each generation run with
// CETS (6.3+ fixtures: the file backend's node list names both), a
// member that stops is reported down (CETS's discovery still knows it)
// and costs no call; it is collected again when it is back; once the node
// list no longer names it, it is no longer reported.
func TestDownMemberCETS(t *testing.T) {
	for _, era := range []string{"mim-6.3.0", "mim-6.4.0", "mim-6.6.0"} {
		t.Run(era, func(t *testing.T) {
			t.Parallel()
			cookie := erltest.RandomCookie()
			aName, bName := erltest.UniqueName("a")+"@localhost", erltest.UniqueName("b")+"@localhost"
			list := filepath.Join(t.TempDir(), "cets_disco.txt")
			writeList := func(names ...string) {
				t.Helper()
				if err := os.WriteFile(list, []byte(strings.Join(names, "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			writeList(aName, bName)
			args := []string{"-fixture_cets_file", list}
			a, b := erltest.StartTwoNodesT(t, era, erltest.TwoNodes{Cookie: cookie,
				A: erltest.Options{Alive: strings.TrimSuffix(aName, "@localhost"), Args: args},
				B: erltest.Options{Alive: strings.TrimSuffix(bName, "@localhost"), Args: args}})
			cl, err := node.Start(context.Background(), node.Options{Seeds: []string{a.Name}, Cookie: cookie, Discover: true})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(cl.Close)
			col := metrics.NewCollector(cl, nil)
			collect := func(what string, want map[string]string) {
				t.Helper()
				collectWith(t, col, what, want)
			}
			collect("both running", map[string]string{aName: "up", bName: "up"})
			b.Kill()
			evalUntil(t, a, "lists:member('"+bName+"', nodes())", func(s string) bool { return s == "false" })
			collect("b stopped", map[string]string{aName: "up", bName: "down"})
			bCalls := cl.Stats(bName).Calls
			collect("b still stopped", map[string]string{aName: "up", bName: "down"})
			if n := cl.Stats(bName).Calls - bCalls; n != 0 {
				t.Errorf("b still stopped: %d calls to b, want none", n)
			}
			// A first collection lists the members (node.Cluster.Membership).
			collectWith(t, metrics.NewCollector(cl, nil), "a new collector, b stopped", map[string]string{aName: "up", bName: "down"})
			if err := b.Restart(); err != nil {
				t.Fatal(err)
			}
			collect("b back", map[string]string{aName: "up", bName: "up"})
			b.Kill()
			writeList(aName)
			collect("b removed from the node list", map[string]string{aName: "up"})
		})
	}
}

// collectWith runs one collection of col and compares each node's state
// (up, down) with want.
func collectWith(t *testing.T, col *metrics.Collector, what string, want map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reps, err := col.Collect(ctx)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	got := map[string]string{}
	for _, r := range reps {
		switch {
		case r.Down && node.IsNotRunning(r.Err):
			got[r.Node] = "down"
		case r.Err == nil:
			got[r.Node] = "up"
		default:
			got[r.Node] = fmt.Sprintf("failed (%v, down %v)", r.Err, r.Down)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: %v, want %v", what, got, want)
	}
}
