package tls_test

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/mim-metrics/mim-metrics/test/erltest"
	"github.com/mim-metrics/mim-metrics/test/testkit"
)

// TestWithoutEPMD: a node started with -erl_epmd_port (no EPMD knows it)
// is reached on that port with --dist-port, or ERL_DIST_PORT as erl reads
// it, and the reports equal those through EPMD. Without the port, and no
// EPMD answering, the error suggests --dist-port.
func TestWithoutEPMD(t *testing.T) {
	t.Parallel()
	port, err := testkit.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	n := erltest.StartFixtureT(t, gen, erltest.Options{Alive: erltest.UniqueName("noepmd"), DistPort: port})
	plainNode := erltest.StartFixtureT(t, gen, erltest.Options{Alive: erltest.UniqueName("withepmd")})
	// No EPMD at all for the sidecar: ERL_EPMD_PORT is a port nothing
	// listens on.
	closed, err := testkit.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	noEPMD := []string{"ERL_EPMD_PORT=" + strconv.Itoa(closed)}
	g := target{node: n, cookie: cookieFile(t, n.Cookie), flags: []string{"--dist-port", strconv.Itoa(port)}}
	plain := target{node: plainNode, cookie: cookieFile(t, plainNode.Cookie)}

	if r := run(t, noEPMD, g.args("check")...); r.code != 0 {
		t.Fatalf("check --dist-port: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	bare := target{node: n, cookie: g.cookie}
	if r := run(t, append(noEPMD, "ERL_DIST_PORT="+strconv.Itoa(port)), bare.args("check")...); r.code != 0 {
		t.Fatalf("check with ERL_DIST_PORT: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	sameReports(t, g, plain)

	r := run(t, noEPMD, bare.args("preview", "--state-dir", t.TempDir())...)
	if r.code != 1 || !contains(r.stderr, "no EPMD at", "--dist-port PORT") {
		t.Errorf("without --dist-port and no EPMD: exit %d: %s, want 1 and a hint of --dist-port", r.code, r.stderr)
	}
}

// TestWithoutEPMDCluster: the members a seed without EPMD is connected
// to are dialled on the same port (each on its own address, as the nodes
// of a Kubernetes StatefulSet are).
func TestWithoutEPMDCluster(t *testing.T) {
	t.Parallel()
	port, err := testkit.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	cookie := erltest.RandomCookie()
	first := erltest.StartFixtureT(t, gen, erltest.Options{Alive: erltest.UniqueName("podA"), Long: true, Host: "127.0.0.1", Cookie: cookie, DistPort: port})
	second := erltest.StartFixtureT(t, gen, erltest.Options{Alive: erltest.UniqueName("podB"), Long: true, Host: "127.0.0.2", Cookie: cookie, DistPort: port,
		Eval: fmt.Sprintf("true = net_kernel:connect_node('%s')", first.Name)})
	closed, err := testkit.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	g := target{node: first, cookie: cookieFile(t, cookie), flags: []string{"--dist-port", strconv.Itoa(port)}}
	r := run(t, []string{"ERL_EPMD_PORT=" + strconv.Itoa(closed)}, g.args("check")...)
	if r.code != 0 || !contains(r.stdout, first.Name+"  ", second.Name+"  ") {
		t.Fatalf("check: exit %d: %s%s, want both members reachable", r.code, r.stdout, r.stderr)
	}
}
