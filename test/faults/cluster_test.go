package faults_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"

	"github.com/mim-metrics/mim-metrics/etf"
	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/node"
	"github.com/mim-metrics/mim-metrics/reporting"
	"github.com/mim-metrics/mim-metrics/test/erltest"
	"github.com/mim-metrics/mim-metrics/test/fakega"
)

const trackingID = "G-FAULTS1:faults-secret-0123456789"

// holdRex suspends the node's rex server from a process that lives until
// the node dies, and returns once rex is suspended: calls sent to the node
// from then on stay in flight.
const holdRex = `Self = self(),
spawn(fun() -> erlang:suspend_process(erlang:whereis(rex)), Self ! held, receive release -> ok end end),
receive held -> ok after 5000 -> timeout end.`

// killingCaller kills an armed node while the collector's gather call to
// it is in flight: it suspends the node's rex, sends the call, and kills
// the node 100 ms later.
type killingCaller struct {
	metrics.Caller
	cl *node.Cluster

	mu       sync.Mutex
	victim   *erltest.Node
	killedAt time.Time
	returned time.Time
	holdErr  error
}

func (k *killingCaller) arm(n *erltest.Node) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.victim = n
}

func (k *killingCaller) EvalProgram(ctx context.Context, n string, files []string, src string, vars map[string]any) (etf.Term, error) {
	k.mu.Lock()
	v := k.victim
	if v == nil || v.Name != n || !strings.Contains(src, ":gather(") {
		k.mu.Unlock()
		return k.Caller.EvalProgram(ctx, n, files, src, vars)
	}
	k.victim = nil
	k.mu.Unlock()
	if t, err := k.cl.Eval(ctx, n, holdRex, nil); err != nil || !etf.IsAtom(t, "ok") {
		k.mu.Lock()
		k.holdErr = err
		k.mu.Unlock()
	}
	go func() {
		// Kill once the gather waits in the held rex's queue.
		if err := waitQueued(v, 1); err != nil {
			k.mu.Lock()
			k.holdErr = err
			k.mu.Unlock()
		}
		k.mu.Lock()
		k.killedAt = time.Now()
		k.mu.Unlock()
		v.Kill()
	}()
	t, err := k.Caller.EvalProgram(ctx, n, files, src, vars)
	k.mu.Lock()
	k.returned = time.Now()
	k.mu.Unlock()
	return t, err
}

// waitQueued waits until at least min calls wait in the queue of n's rex
// (held by holdRex), asking through the test's control node (which does
// not go through rex): then a call is surely in flight. At most 30 s.
func waitQueued(n *erltest.Node, min int) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := n.Eval(ctx, "element(2, erlang:process_info(whereis(rex), message_queue_len))")
		cancel()
		if q, perr := strconv.Atoi(out); err == nil && perr == nil && q >= min {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no call reached the held rex of %s within 30 s: %v %s", n.Name, err, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// cycle runs one report now and returns the result and the report file.
func cycle(t *testing.T, s *sidecar) (reporting.Result, fileReport) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := s.svc.RunOnce(ctx)
	if err != nil {
		t.Fatalf("cycle: %v", err)
	}
	if res.FileErr != nil {
		t.Fatalf("report file: %v", res.FileErr)
	}
	return res, readReport(t, s.reportFile)
}

// wantComplete fails unless the cycle reported exactly the nodes in want,
// every one of them collected.
func wantComplete(t *testing.T, what string, res reporting.Result, rep fileReport, want []string) {
	t.Helper()
	ok, failed := rep.collected()
	slices.Sort(ok)
	w := slices.Sorted(slices.Values(want))
	if res.Nodes != len(want) || res.Collected != len(want) || !slices.Equal(ok, w) || len(failed) != 0 {
		t.Errorf("%s: reported %d nodes, collected %d: %v, failed %v; want all of %v", what, res.Nodes, res.Collected, ok, failed, w)
	}
}

// TestNodeKilledDuringCollection (case 1): a node killed while its gather
// call is in flight is missing from that cycle's report with a logged
// reason, at once rather than at the time limit; the other nodes are
// reported; the first cycle after the node is back is complete.
func TestNodeKilledDuringCollection(t *testing.T) {
	t.Parallel()
	c := startCluster(t, "mim-6.4.0", 3)
	a, b, victim := c.nodes[0], c.nodes[1], c.nodes[2]
	ga := fakega.New(t)
	var kc *killingCaller
	s := newSidecar(t, sidecarOptions{seeds: []string{a.Name}, cookie: c.cookie, discover: true,
		endpoint: ga.URL, tracking: []string{trackingID}, timeout: 20 * time.Second,
		wrap: func(cl metrics.Caller) metrics.Caller {
			kc = &killingCaller{Caller: cl, cl: cl.(*node.Cluster)}
			return kc
		}})

	res, rep := cycle(t, s)
	wantComplete(t, "before the kill", res, rep, c.names())

	kc.arm(victim)
	ga.Reset()
	start := time.Now()
	res, rep = cycle(t, s)
	took := time.Since(start)
	kc.mu.Lock()
	killedAt, returned, holdErr := kc.killedAt, kc.returned, kc.holdErr
	kc.mu.Unlock()
	if holdErr != nil {
		t.Fatalf("could not hold the victim's rex: %v", holdErr)
	}
	if killedAt.IsZero() {
		t.Fatal("the victim was never killed: the gather call did not reach it")
	}
	if d := returned.Sub(killedAt); d > 3*time.Second {
		t.Errorf("the call to the killed node failed %v after the kill; want at once (the node's death is noticed)", d)
	}
	t.Logf("cycle with the kill took %v; the in-flight call failed %v after the kill", took, returned.Sub(killedAt).Round(time.Millisecond))
	ok, failed := rep.collected()
	if res.Nodes != 3 || res.Collected != 2 || len(ok) != 2 || slices.Contains(ok, victim.Name) {
		t.Errorf("cycle with the kill: %d nodes, %d collected (%v); want 3 and 2, the victim %s missing", res.Nodes, res.Collected, ok, victim.Name)
	}
	if why := failed[victim.Name]; !strings.Contains(why, "unreachable") {
		t.Errorf("the report file gives no reason for the missing node: %q", why)
	}
	logged := 0
	for _, m := range messages(s.logs, zapcore.WarnLevel) {
		if strings.Contains(m, "could not be collected") && strings.Contains(m, victim.Name) {
			logged++
			if !strings.Contains(m, "connection lost") && !strings.Contains(m, "unreachable") {
				t.Errorf("the warning does not say why: %s", m)
			}
		}
	}
	if logged != 1 {
		t.Errorf("the missing node was logged %d times, want once:\n%s", logged, strings.Join(messages(s.logs, zapcore.WarnLevel), "\n"))
	}
	if n := len(ga.Events()); n == 0 {
		t.Error("nothing was sent for the nodes that answered")
	}

	// While the node is down (and the seed has noticed), it is not a
	// member: the report is complete.
	waitGone(t, a, victim.Name)
	res, rep = cycle(t, s)
	wantComplete(t, "while the victim is down", res, rep, []string{a.Name, b.Name})

	// It comes back (and rejoins): the next cycle is complete again.
	if err := victim.Restart(); err != nil {
		t.Fatal(err)
	}
	waitMembers(t, a, c.names())
	res, rep = cycle(t, s)
	wantComplete(t, "after the victim returned", res, rep, c.names())

	assertInvisible(t, s.cl.Name(), true, c.nodes...)
}

// TestMembershipChanges (case 2): between cycles a member restarts, the
// seed restarts, a new member joins and one leaves; each next cycle
// reports exactly the current members, without restarting the sidecar.
func TestMembershipChanges(t *testing.T) {
	t.Parallel()
	newAlive := erltest.UniqueName("joiner")
	c := startCluster(t, "mim-6.4.0", 3, newAlive+"@localhost")
	a, b, leaver := c.nodes[0], c.nodes[1], c.nodes[2]
	s := newSidecar(t, sidecarOptions{seeds: []string{a.Name}, cookie: c.cookie, discover: true})

	res, rep := cycle(t, s)
	wantComplete(t, "start", res, rep, c.names())

	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
	waitMembers(t, a, c.names())
	res, rep = cycle(t, s)
	wantComplete(t, "after a member restarted", res, rep, c.names())

	if err := a.Restart(); err != nil {
		t.Fatal(err)
	}
	waitMembers(t, a, c.names())
	res, rep = cycle(t, s)
	wantComplete(t, "after the seed restarted", res, rep, c.names())

	joiner, err := erltest.StartFixture("mim-6.4.0", erltest.Options{Alive: newAlive, Cookie: c.cookie, Eval: joinExpr(c.names())})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(joiner.Stop)
	all := append(c.names(), joiner.Name)
	waitMembers(t, a, all)
	res, rep = cycle(t, s)
	wantComplete(t, "after a member joined", res, rep, all)

	// The leaver stops and comes back on its own, outside the cluster (as
	// after mongooseimctl leave_cluster).
	leaver.Stop()
	alone, err := erltest.StartFixture("mim-6.4.0", erltest.Options{Alive: strings.TrimSuffix(leaver.Name, "@localhost"), Cookie: c.cookie})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(alone.Stop)
	rest := []string{a.Name, b.Name, joiner.Name}
	waitGone(t, a, leaver.Name)
	res, rep = cycle(t, s)
	wantComplete(t, "after a member left", res, rep, rest)
	for _, m := range messages(s.logs, zapcore.WarnLevel) {
		if !strings.Contains(m, "own system metrics service") { // the fixture runs it
			t.Errorf("warning in a cluster that only changed: %s", m)
		}
	}

	assertInvisible(t, s.cl.Name(), true, a, b, joiner)
	assertInvisible(t, s.cl.Name(), false, alone)
}

// waitGone waits until nodes() on n no longer lists name.
func waitGone(t *testing.T, n *erltest.Node, name string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		out, err := n.Eval(ctx, "nodes()")
		cancel()
		if err == nil && !strings.Contains(out, name) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still lists %s: %v %s", n.Name, name, err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestClusterDownAtStart: the sidecar starts while its only node is down,
// then the node comes up. The cycles before are skipped with a reason;
// the first one after reports with the cluster's own Cluster ID. The
// sidecar must not mistake a silent cluster for one without a Cluster ID:
// no local ID is invented (it would change the cluster's identity in the
// reports, and stay in the state dir).
func TestClusterDownAtStart(t *testing.T) {
	t.Parallel()
	alive, cookie := erltest.UniqueName("late"), erltest.RandomCookie()
	s := newSidecar(t, sidecarOptions{seeds: []string{alive + "@localhost"}, cookie: cookie, discover: true, timeout: 30 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := s.svc.RunOnce(ctx)
	if err == nil {
		t.Fatalf("a cycle without any node succeeded: %+v", res)
	}
	t.Logf("cycle while the node is down: %v", err)
	if res.LocalClusterID {
		t.Errorf("a local Cluster ID %s was used for a cluster that did not answer", res.ClientID)
	}
	if _, err := os.Stat(s.reportFile); err == nil {
		t.Error("a report file was written although no node answered")
	}
	n := erltest.StartFixtureT(t, "mim-6.4.0", erltest.Options{Alive: alive, Cookie: cookie})
	res, rep := cycle(t, s)
	wantComplete(t, "after the node came up", res, rep, []string{n.Name})
	if res.LocalClusterID {
		t.Errorf("the report uses a local Cluster ID %s, not the cluster's own", res.ClientID)
	}
	if b, err := os.ReadFile(filepath.Join(s.stateDir, "cluster_id")); err == nil {
		t.Errorf("a local Cluster ID was stored for a cluster that has its own: %s", b)
	}
	assertInvisible(t, s.cl.Name(), true, n)
}

// TestCloseEndsCallsInFlight: stopping the sidecar's node ends the calls
// still waiting for a node that does not answer (its rex is held) at
// once, so nothing outlives the sidecar waiting for a deadline.
func TestCloseEndsCallsInFlight(t *testing.T) {
	t.Parallel()
	n := erltest.StartFixtureT(t, "mim-6.4.0", erltest.Options{})
	cl, err := node.Start(context.Background(), node.Options{Seeds: []string{n.Name}, Cookie: n.Cookie})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := cl.Eval(ctx, n.Name, holdRex, nil); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := cl.Eval(ctx, n.Name, "ok.", nil)
		done <- err
	}()
	if err := waitQueued(n, 1); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		t.Fatalf("the call to a held node returned: %v", err)
	default:
	}
	closed := time.Now()
	cl.Close()
	select {
	case err := <-done:
		if !errors.Is(err, node.ErrUnreachable) {
			t.Errorf("the call ended with %v, want ErrUnreachable", err)
		}
		t.Logf("the call ended %v after Close: %v", time.Since(closed).Round(time.Millisecond), err)
	case <-time.After(5 * time.Second):
		t.Fatal("the call still waits 5 s after Close")
	}
}
