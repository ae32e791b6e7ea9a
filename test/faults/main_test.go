// Package faults_test is the fault-injection suite (issue 7): nodes killed
// and restarted under the sidecar, a cluster that changes, a Google
// Analytics that fails in every way, signals, bad input, hostile answers,
// and a soak. Each test fails when the sidecar stops being boring: when it
// crashes, hangs, leaks, piles up work, tears its report file, becomes
// visible to the cluster, or talks to anything but loopback.
//
// In-process tests build node.Start + metrics.NewCollector +
// reporting.NewService as cmd/mim-metrics does; process-level tests run
// the real binary, built once in TestMain. The soak runs in a child
// process (this test binary again) so its goroutine, descriptor and heap
// figures are its own, not those of the tests running beside it.
package faults_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/test/testkit"

	"github.com/mim-metrics/mim-metrics/node"
	"github.com/mim-metrics/mim-metrics/test/erltest"
)

// soakChildEnv marks the child process that runs the soak alone.
const soakChildEnv = "MIM_METRICS_FAULTS_SOAK_CHILD"

const fixturesDir = "../fixtures"

var (
	workDir string // removed when the package's tests end
	bin     string // the mim-metrics binary, built once

	// shared is a fixture node that every process-level test may talk to
	// and none may kill. Its cookie is in sharedCookieFile (mode 0400).
	shared           *erltest.Node
	sharedCookieFile string
)

func TestMain(m *testing.M) {
	erltest.RequireForMain()
	// These tests mostly wait (for Erlang nodes, child processes, timers),
	// and two of them take over a minute: run them all at once unless
	// -test.parallel says otherwise (its default is GOMAXPROCS).
	flag.Parse()
	parallelSet := false
	flag.Visit(func(f *flag.Flag) { parallelSet = parallelSet || f.Name == "test.parallel" })
	if !parallelSet {
		_ = flag.Set("test.parallel", "16")
	}
	child := os.Getenv(soakChildEnv) == "1"
	code := func() int {
		defer erltest.Cleanup()
		defer erltest.CleanupEjabberd()
		var err error
		if workDir, err = os.MkdirTemp("", "mim-faults"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(workDir)
		if !child {
			if err := setup(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		code := m.Run()
		// Every process-level test talked to the shared node: nothing ever
		// joined its visible cluster.
		if shared != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			if out, err := shared.Eval(ctx, "nodes()"); err != nil || out != "[]" {
				fmt.Fprintf(os.Stderr, "FAIL: nodes() on the shared node is %s (%v), want []\n", out, err)
				code = 1
			}
		}
		return code
	}()
	os.Exit(code)
}

// setup builds the binary and starts the shared node, in parallel.
func setup() error {
	// The binary is run as another user in one test: its directory must
	// be reachable by everybody.
	if err := os.Chmod(workDir, 0o755); err != nil {
		return err
	}
	var wg sync.WaitGroup
	var buildErr, nodeErr error
	wg.Go(func() {
		bin, buildErr = testkit.Build(workDir, "./cmd/mim-metrics")
	})
	wg.Go(func() {
		shared, nodeErr = erltest.StartFixture("mim-6.4.0", erltest.Options{})
		if nodeErr == nil {
			sharedCookieFile = filepath.Join(workDir, "shared.cookie")
			nodeErr = os.WriteFile(sharedCookieFile, []byte(shared.Cookie+"\n"), 0o400)
		}
	})
	wg.Wait()
	return errors.Join(buildErr, nodeErr)
}

// cluster is a fixture cluster of n nodes named in advance, each of which
// pings all the others when it starts (and restarts), as a MongooseIM node
// rejoins its cluster.
type cluster struct {
	cookie string
	nodes  []*erltest.Node
}

// startCluster starts n nodes of generation era, in parallel, joined.
// extra names nodes that are not started yet but will join later (they
// are pinged at start-up too, in vain until they run).
func startCluster(t testing.TB, era string, n int, extra ...string) *cluster {
	t.Helper()
	return startClusterArgs(t, era, make([][]string, n), extra...)
}

// startClusterArgs is startCluster with erl arguments for each node
// (fixture knobs such as -fixture_vsn): one node per element of args.
func startClusterArgs(t testing.TB, era string, args [][]string, extra ...string) *cluster {
	t.Helper()
	n := len(args)
	c := &cluster{cookie: erltest.RandomCookie(), nodes: make([]*erltest.Node, n)}
	alives := make([]string, n)
	all := make([]string, 0, n+len(extra))
	for i := range alives {
		alives[i] = erltest.UniqueName(fmt.Sprintf("m%d", i))
		all = append(all, alives[i]+"@localhost")
	}
	all = append(all, extra...)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c.nodes[i], errs[i] = erltest.StartFixture(era, erltest.Options{Alive: alives[i], Cookie: c.cookie, Eval: joinExpr(all), Args: args[i]})
		})
	}
	wg.Wait()
	for _, nd := range c.nodes {
		if nd != nil {
			t.Cleanup(nd.Stop)
		}
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	// The last node to start has pinged everybody; make sure the mesh is
	// complete before the test starts.
	for _, nd := range c.nodes {
		waitMembers(t, nd, c.names())
	}
	return c
}

// joinExpr pings every node in names (but itself): what a cluster member
// does when it starts.
func joinExpr(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = "'" + n + "'"
	}
	return "[net_adm:ping(N) || N <- [" + strings.Join(quoted, ", ") + "], N =/= node()]"
}

func (c *cluster) names() []string {
	out := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = n.Name
	}
	return out
}

// waitMembers waits until nodes() on n lists every other name in want.
func waitMembers(t testing.TB, n *erltest.Node, want []string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := n.Eval(ctx, "nodes()")
		cancel()
		missing := ""
		for _, w := range want {
			if w != n.Name && !strings.Contains(out, w) {
				missing = w
			}
		}
		if err == nil && missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not see %s in nodes(): %v %s", n.Name, missing, err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// assertInvisible checks, through an independent Erlang helper node, that
// nodes() on every given member does not list our node (case 8). With
// mustBeConnected, nodes(hidden) must list it, so the check is not vacuous.
func assertInvisible(t testing.TB, ours string, mustBeConnected bool, members ...*erltest.Node) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var problems []string
	for _, m := range members {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			out, err := m.Eval(ctx, "{nodes(), nodes(hidden)}")
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s: nodes(): %v %s", m.Name, err, out))
				return
			}
			visible, hidden, _ := strings.Cut(out, "],")
			if strings.Contains(visible, ours) {
				problems = append(problems, fmt.Sprintf("%s lists the sidecar %s in nodes(): %s", m.Name, ours, out))
			}
			if mustBeConnected && !strings.Contains(hidden, ours) {
				problems = append(problems, fmt.Sprintf("%s is not connected to the sidecar %s (nodes(hidden)): %s", m.Name, ours, out))
			}
		})
	}
	wg.Wait()
	for _, p := range problems {
		t.Error(p)
	}
}

// assertInvisibleVia asks every member, through the sidecar's own
// connection, for nodes(): cheap enough to run inside loops.
func assertInvisibleVia(ctx context.Context, cl *node.Cluster, members []string) error {
	for _, m := range members {
		t, err := cl.Call(ctx, m, "erlang", "nodes")
		if err != nil {
			continue // a member that is down shows nothing
		}
		if strings.Contains(fmt.Sprint(t), cl.Name()) {
			return fmt.Errorf("%s lists the sidecar %s in nodes(): %v", m, cl.Name(), t)
		}
	}
	return nil
}

// numFDs counts this process's open file descriptors.
func numFDs() int {
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(es)
}

// heapInuse is the heap in use after a full collection.
func heapInuse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// mb formats bytes as megabytes.
func mb(b uint64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }
