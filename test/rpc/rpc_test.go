// Package rpc_test checks package node against real erl nodes on loopback.
package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/etf"
	"github.com/mim-metrics/mim-metrics/node"
	"github.com/mim-metrics/mim-metrics/test/erltest"
)

// Nodes started once for the whole package.
var (
	shortNode *erltest.Node   // -sname, cookie shared with cluster
	longNode  *erltest.Node   // -name
	trio      []*erltest.Node // a three-node cluster
	cookie    = erltest.RandomCookie()
)

func TestMain(m *testing.M) {
	erltest.RequireForMain()
	code := func() int {
		defer erltest.Cleanup()
		if err := startNodes(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return m.Run()
	}()
	os.Exit(code)
}

func startNodes() error {
	var err error
	var wg sync.WaitGroup
	var mu sync.Mutex
	start := func(dst **erltest.Node, o erltest.Options) {
		defer wg.Done()
		n, e := erltest.Start(o)
		mu.Lock()
		defer mu.Unlock()
		if e != nil && err == nil {
			err = e
		}
		*dst = n
	}
	trio = make([]*erltest.Node, 3)
	wg.Add(5)
	go start(&shortNode, erltest.Options{Cookie: cookie})
	go start(&longNode, erltest.Options{Cookie: cookie, Long: true})
	for i := range trio {
		go start(&trio[i], erltest.Options{Alive: erltest.UniqueName(fmt.Sprintf("trio%d", i)), Cookie: cookie})
	}
	wg.Wait()
	if err != nil {
		return err
	}
	// Join the trio: the first pings the others.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := trio[0].Eval(ctx, fmt.Sprintf("[net_adm:ping('%s'), net_adm:ping('%s')]", trio[1].Name, trio[2].Name))
	if err != nil || !strings.Contains(out, "[pong,pong]") {
		return fmt.Errorf("join trio: %v: %s", err, out)
	}
	return nil
}

func startCluster(t testing.TB, seeds []string, c string, discover bool) *node.Cluster {
	t.Helper()
	cl, err := node.Start(context.Background(), node.Options{Seeds: seeds, Cookie: c, Discover: discover})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestHiddenFromTheCluster(t *testing.T) {
	t.Parallel()
	cl := startCluster(t, []string{shortNode.Name}, cookie, false)
	ctx := ctxT(t, 30*time.Second)
	if _, err := cl.Call(ctx, shortNode.Name, "erlang", "node"); err != nil {
		t.Fatal(err)
	}
	visible, err := cl.Call(ctx, shortNode.Name, "erlang", "nodes")
	if err != nil {
		t.Fatal(err)
	}
	if elems, _ := etf.Elems(visible); containsAtom(elems, cl.Name()) {
		t.Errorf("nodes() on %s lists us (%s): %s", shortNode.Name, cl.Name(), etf.Format(visible))
	}
	hidden, err := cl.Call(ctx, shortNode.Name, "erlang", "nodes", etf.Atom("hidden"))
	if err != nil {
		t.Fatal(err)
	}
	if elems, _ := etf.Elems(hidden); !containsAtom(elems, cl.Name()) {
		t.Errorf("nodes(hidden) on %s does not list us (%s): %s", shortNode.Name, cl.Name(), etf.Format(hidden))
	}
	names, err := erltest.EPMDNames()
	if err != nil {
		t.Fatal(err)
	}
	alive, _, _ := strings.Cut(cl.Name(), "@")
	if strings.Contains(names, alive) {
		t.Errorf("epmd -names lists us (%s):\n%s", alive, names)
	}
	if !strings.Contains(names, strings.Split(shortNode.Name, "@")[0]) {
		t.Errorf("epmd -names does not list the test node; the check above proves nothing:\n%s", names)
	}
}

func containsAtom(elems []etf.Term, name string) bool {
	for _, e := range elems {
		if a, ok := e.(etf.Atom); ok && string(a) == name {
			return true
		}
	}
	return false
}

func TestLongNames(t *testing.T) {
	t.Parallel()
	cl := startCluster(t, []string{longNode.Name}, cookie, true)
	ctx := ctxT(t, 30*time.Second)
	got, err := cl.Call(ctx, longNode.Name, "erlang", "node")
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := etf.Text(got); s != longNode.Name {
		t.Errorf("node() = %q, want %q", s, longNode.Name)
	}
	if !strings.Contains(cl.Name(), "@127.0.0.1") {
		t.Errorf("own name %q is not a long name", cl.Name())
	}
}

func TestWrongCookie(t *testing.T) {
	t.Parallel()
	cl := startCluster(t, []string{shortNode.Name}, "NOT-THE-COOKIE", false)
	_, err := cl.Call(ctxT(t, 30*time.Second), shortNode.Name, "erlang", "node")
	if !errors.Is(err, node.ErrAuth) {
		t.Fatalf("err = %v, want ErrAuth", err)
	}
	if strings.Contains(err.Error(), "NOT-THE-COOKIE") {
		t.Errorf("the error shows the cookie: %v", err)
	}
	if !strings.Contains(err.Error(), "--cookie-file") {
		t.Errorf("the error does not say what to do: %v", err)
	}
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, node, reason string
	}{
		{"not running", "nosuchnode_x1@localhost", "no node named"},
		{"no EPMD", "somenode@127.0.0.2", "no EPMD"},
		{"host does not resolve", "somenode@nonexistent-host-7f3a.invalid", "does not resolve"},
	}
	cl := startCluster(t, []string{shortNode.Name}, cookie, false)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			_, err := cl.Call(ctxT(t, 30*time.Second), c.node, "erlang", "node")
			if !errors.Is(err, node.ErrUnreachable) {
				t.Fatalf("err = %v, want ErrUnreachable", err)
			}
			if !strings.Contains(err.Error(), c.reason) {
				t.Errorf("err = %v, want it to say %q", err, c.reason)
			}
			t.Logf("%s after %v: %v", c.name, time.Since(start).Round(time.Millisecond), err)
		})
	}
}

func TestBadRPC(t *testing.T) {
	t.Parallel()
	cl := startCluster(t, []string{shortNode.Name}, cookie, false)
	ctx := ctxT(t, 30*time.Second)
	_, err := cl.Call(ctx, shortNode.Name, "no_such_module_7f3a", "f")
	var bad *node.BadRPCError
	if !errors.As(err, &bad) || !bad.IsUndef() {
		t.Fatalf("err = %v, want an undef BadRPCError", err)
	}
	_, err = cl.Call(ctx, shortNode.Name, "erlang", "error", etf.Tuple{etf.Atom("boom"), etf.Binary("x")})
	if !errors.As(err, &bad) || bad.Class != "error" || !strings.Contains(bad.Reason, "boom") {
		t.Fatalf("err = %v, want error:{boom,...}", err)
	}
	// throw(X) returns X, as rpc:call does.
	got, err := cl.Call(ctx, shortNode.Name, "erlang", "throw", etf.Atom("thrown"))
	if err != nil || !etf.IsAtom(got, "thrown") {
		t.Fatalf("throw: got %v, %v", got, err)
	}
}

func TestRemoteOutputDoesNotHang(t *testing.T) {
	t.Parallel()
	cl := startCluster(t, []string{shortNode.Name}, cookie, false)
	// A call whose output waited for a reader would end at the deadline.
	got, err := cl.Call(ctxT(t, 20*time.Second), shortNode.Name, "io", "format", "hello from a test~n")
	if err != nil || !etf.IsAtom(got, "ok") {
		t.Fatalf("io:format: %v, %v", got, err)
	}
}

func TestAnyMapKeysDecodeAndConnectionStaysUp(t *testing.T) {
	t.Parallel()
	cl := startCluster(t, []string{shortNode.Name}, cookie, false)
	ctx := ctxT(t, 30*time.Second)
	got, err := cl.Eval(ctx, shortNode.Name, `#{<<"bin">> => 1, "list" => 2, {tu, ple} => 3, #{in => map} => 4, 5 => five}.`, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := got.(etf.Map)
	if !ok {
		t.Fatalf("got %T %s", got, etf.Format(got))
	}
	checks := []struct {
		key  etf.Term
		want etf.Term
	}{
		{etf.Binary("bin"), int64(1)},
		{etf.String("list"), int64(2)},
		{etf.Tuple{etf.Atom("tu"), etf.Atom("ple")}, int64(3)},
		{etf.Map{{Key: etf.Atom("in"), Value: etf.Atom("map")}}, int64(4)},
		{int64(5), etf.Atom("five")},
	}
	for _, c := range checks {
		v, ok := m.Get(c.key)
		if !ok || !etf.Equal(v, c.want) {
			t.Errorf("key %s: got %v (%v), want %s", etf.Format(c.key), v, ok, etf.Format(c.want))
		}
	}
	if _, err := cl.Call(ctx, shortNode.Name, "erlang", "node"); err != nil {
		t.Errorf("connection lost after the map answer: %v", err)
	}
}

func TestEvalBindings(t *testing.T) {
	t.Parallel()
	cl := startCluster(t, []string{shortNode.Name}, cookie, false)
	got, err := cl.Eval(ctxT(t, 30*time.Second), shortNode.Name, `X + length(L).`,
		map[string]any{"X": 40, "L": etf.List{etf.Atom("a"), etf.Atom("b")}})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := etf.Int(got); n != 42 {
		t.Errorf("got %s, want 42", etf.Format(got))
	}
	_, err = cl.Eval(ctxT(t, 30*time.Second), shortNode.Name, `this is not erlang`, nil)
	var bad *node.BadRPCError
	if !errors.As(err, &bad) {
		t.Errorf("a syntax error gave %v, want a BadRPCError", err)
	}
}

func TestDeadlineIsSubSecond(t *testing.T) {
	t.Parallel()
	cl := startCluster(t, []string{shortNode.Name}, cookie, false)
	if _, err := cl.Call(ctxT(t, 30*time.Second), shortNode.Name, "erlang", "node"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := cl.Call(ctxT(t, 300*time.Millisecond), shortNode.Name, "timer", "sleep", 10000)
	took := time.Since(start)
	if !errors.Is(err, node.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	// The answer would come after 10 s: well before that, the deadline
	// ended the call (the margin is for a busy machine).
	if took < 290*time.Millisecond || took > 3*time.Second {
		t.Errorf("a 300ms deadline returned after %v", took)
	}
	t.Logf("a 300ms deadline returned after %v", took.Round(time.Millisecond))
	if _, err := cl.Call(ctxT(t, 30*time.Second), shortNode.Name, "erlang", "node"); err != nil {
		t.Errorf("the connection is unusable after a timeout: %v", err)
	}
}

// TestConcurrentCalls: 100 calls are in flight at once. Each waits on
// the node until all 100 have arrived (a barrier, up to 30 s): calls run
// one after another would never get past it, however fast the machine.
func TestConcurrentCalls(t *testing.T) {
	t.Parallel()
	cl := startCluster(t, []string{shortNode.Name}, cookie, false)
	key := erltest.UniqueName("barrier")
	setup, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if out, err := shortNode.Eval(setup, fmt.Sprintf("persistent_term:put(%s, counters:new(1, [])), ok", key)); err != nil || out != "ok" {
		t.Fatalf("barrier: %v %s", err, out)
	}
	ctx := ctxT(t, 60*time.Second)
	src := fmt.Sprintf(`C = persistent_term:get(%s), counters:add(C, 1, 1),
Wait = fun W(0) -> timeout; W(N) -> case counters:get(C, 1) >= 100 of true -> passed; false -> timer:sleep(10), W(N - 1) end end,
{Wait(3000), I * 2}.`, key)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			got, err := cl.Eval(ctx, shortNode.Name, src, map[string]any{"I": i})
			if err != nil {
				errs <- err
				return
			}
			if !etf.Equal(got, etf.Tuple{etf.Atom("passed"), int64(2 * i)}) {
				errs <- fmt.Errorf("call %d got %s: the calls were not in flight together", i, etf.Format(got))
			}
		}(i)
	}
	start := time.Now()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	t.Logf("100 calls held at a barrier until all had arrived: %v", time.Since(start).Round(time.Millisecond))
}

func TestDiscoverThreeNodesFromOneSeed(t *testing.T) {
	t.Parallel()
	cl := startCluster(t, []string{trio[0].Name}, cookie, true)
	members, err := cl.Members(ctxT(t, 30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{trio[0].Name: true, trio[1].Name: true, trio[2].Name: true}
	for _, m := range members {
		delete(want, m)
	}
	if len(want) != 0 || len(members) != 3 {
		t.Errorf("members = %v, missing %v", members, want)
	}
	for _, m := range members {
		if _, err := cl.Call(ctxT(t, 30*time.Second), m, "erlang", "node"); err != nil {
			t.Errorf("call %s: %v", m, err)
		}
	}
	noDiscover := startCluster(t, []string{trio[0].Name}, cookie, false)
	members, err = noDiscover.Members(ctxT(t, 30*time.Second))
	if err != nil || len(members) != 1 || members[0] != trio[0].Name {
		t.Errorf("without discovery members = %v, %v; want only the seed", members, err)
	}
}

// The tests below kill or restart their own node.

func TestNodeKilledDuringCallFailsFast(t *testing.T) {
	t.Parallel()
	n, err := erltest.Start(erltest.Options{Cookie: cookie})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	cl := startCluster(t, []string{n.Name}, cookie, false)
	if _, err := cl.Call(ctxT(t, 30*time.Second), n.Name, "erlang", "node"); err != nil {
		t.Fatal(err)
	}
	// Kill the node once the call sleeps there (asked through the test's
	// control node).
	killed := make(chan time.Time, 1)
	go func() {
		defer close(killed)
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			out, _ := n.Eval(ctx, "length([P || P <- processes(), process_info(P, current_function) =:= {current_function, {timer, sleep, 1}}])")
			cancel()
			if out != "0" && out != "" {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		killed <- time.Now()
		n.Kill()
	}()
	_, err = cl.Call(ctxT(t, 60*time.Second), n.Name, "timer", "sleep", 40000)
	returned := time.Now()
	if !errors.Is(err, node.ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
	// The answer would come after 40 s and the deadline after 60 s.
	after := returned.Sub(<-killed)
	if after > 10*time.Second {
		t.Errorf("a killed node failed the call %v after the kill, not at once", after)
	}
	t.Logf("failed %v after the kill: %v", after.Round(time.Millisecond), err)
}

func TestReconnectAfterRestart(t *testing.T) {
	t.Parallel()
	n, err := erltest.Start(erltest.Options{Cookie: cookie})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	cl := startCluster(t, []string{n.Name}, cookie, false)
	first, err := cl.Call(ctxT(t, 30*time.Second), n.Name, "os", "getpid")
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Restart(); err != nil {
		t.Fatal(err)
	}
	second, err := cl.Call(ctxT(t, 30*time.Second), n.Name, "os", "getpid")
	if err != nil {
		t.Fatalf("the first call after a restart failed: %v", err)
	}
	if etf.Equal(first, second) {
		t.Errorf("same OS pid %s before and after the restart: the node did not restart", etf.Format(first))
	}
}

func TestEvalCachesParsedSourceAndCountsRoundTrips(t *testing.T) {
	t.Parallel()
	cl := startCluster(t, []string{trio[0].Name}, cookie, false)
	ctx := ctxT(t, 30*time.Second)
	src := `S = "a string with \"quotes\" and caf\x{e9}", {node(), S, N * 2, [X || X <- lists:seq(1, 3)]}.`
	for i, n := range []string{trio[0].Name, trio[1].Name, trio[1].Name} {
		got, err := cl.Eval(ctx, n, src, map[string]any{"N": i})
		if err != nil {
			t.Fatalf("eval %d on %s: %v", i, n, err)
		}
		tup, _ := got.(etf.Tuple)
		if len(tup) != 4 || !etf.IsAtom(tup[0], n) {
			t.Fatalf("eval %d: %s", i, etf.Format(got))
		}
		if s, _ := etf.Text(tup[1]); s != `a string with "quotes" and café` {
			t.Errorf("eval %d: string %q", i, s)
		}
		if v, _ := etf.Int(tup[2]); v != int64(2*i) {
			t.Errorf("eval %d: N*2 = %s", i, etf.Format(tup[2]))
		}
	}
	if s := cl.Stats(trio[1].Name); s.Calls != 2 || s.BytesReceived <= 0 {
		t.Errorf("stats of %s: %+v, want 2 calls", trio[1].Name, s)
	}
}

// Benchmarks of the RPC path against a real node on loopback. Run with
// go test -run=^$ -bench=. ./test/rpc

// BenchmarkStartToFirstAnswer: a new hidden node, connected, one answer.
func BenchmarkStartToFirstAnswer(b *testing.B) {
	for i := 0; i < b.N; i++ {
		cl, err := node.Start(context.Background(), node.Options{Seeds: []string{shortNode.Name}, Cookie: cookie})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := cl.Call(ctxT(b, 5*time.Second), shortNode.Name, "erlang", "node"); err != nil {
			b.Fatal(err)
		}
		cl.Close()
	}
}

// BenchmarkSequentialCall: one call after another on a live connection.
func BenchmarkSequentialCall(b *testing.B) {
	cl := startCluster(b, []string{shortNode.Name}, cookie, false)
	ctx := ctxT(b, time.Minute)
	if _, err := cl.Call(ctx, shortNode.Name, "erlang", "node"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := cl.Call(ctx, shortNode.Name, "erlang", "node"); err != nil {
			b.Fatal(err)
		}
	}
}

// Benchmark100Concurrent: 100 calls in flight at once; one op is all 100.
func Benchmark100Concurrent(b *testing.B) {
	cl := startCluster(b, []string{shortNode.Name}, cookie, false)
	ctx := ctxT(b, time.Minute)
	if _, err := cl.Call(ctx, shortNode.Name, "erlang", "node"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		for j := 0; j < 100; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := cl.Call(ctx, shortNode.Name, "erlang", "node"); err != nil {
					b.Error(err)
				}
			}()
		}
		wg.Wait()
	}
}

// An answer larger than our decoder takes (64 MB) is refused on the node,
// before it is encoded: the caller gets a BadRPCError naming its size, and
// the connection stays up. So do a thrown value and an error reason that
// large.
func TestOversizedAnswerIsRefusedOnTheNode(t *testing.T) {
	t.Parallel()
	cl := startCluster(t, []string{shortNode.Name}, cookie, false)
	for _, src := range []string{
		`binary:copy(<<0>>, 70000000).`,
		`throw(binary:copy(<<0>>, 70000000)).`,
		`error(binary:copy(<<0>>, 70000000)).`,
	} {
		start := time.Now()
		_, err := cl.Eval(ctxT(t, 20*time.Second), shortNode.Name, src, nil)
		var bad *node.BadRPCError
		if !errors.As(err, &bad) || !strings.Contains(bad.Reason, "too_large,70000") {
			t.Errorf("%s: got %v, want a BadRPCError naming the size", src, err)
		}
		t.Logf("%s: %v in %v", src, err, time.Since(start).Round(time.Millisecond))
	}
	got, err := cl.Call(ctxT(t, 30*time.Second), shortNode.Name, "erlang", "node")
	if err != nil || !etf.IsAtom(got, shortNode.Name) {
		t.Errorf("after the refused answers: %v, %v", got, err)
	}
}
