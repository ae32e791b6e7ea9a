package tls_test

import (
	"testing"

	"github.com/mim-metrics/mim-metrics/test/erltest"
)

// needIPv6 skips the test on a machine without ::1, saying so.
func needIPv6(t *testing.T) {
	t.Helper()
	if !erltest.HasIPv6Loopback() {
		t.Skip("this machine has no IPv6 loopback (::1): the IPv6 distribution tests need it")
	}
}

// TestIPv6Node: a node of inet6_tcp distribution named n@::1 (a long
// name of an IPv6 address), found through EPMD over IPv6, and one of
// inet6_tls: check, preview and once reach them, and the reports equal
// plain IPv4 TCP's.
func TestIPv6Node(t *testing.T) {
	t.Parallel()
	needIPv6(t)
	v6 := erltest.StartFixtureT(t, gen, erltest.Options{Alive: erltest.UniqueName("v6"), Long: true, Host: "::1", Proto: "inet6_tcp"})
	v6tls := startTLSFixture(t, erltest.Options{Alive: erltest.UniqueName("v6tls"), Long: true, Host: "::1", Proto: "inet6_tls"})
	plainNode := erltest.StartFixtureT(t, gen, erltest.Options{Alive: erltest.UniqueName("v4"), Long: true})
	tcp6 := target{node: v6, cookie: cookieFile(t, v6.Cookie), flags: []string{"--proto-dist", "inet6_tcp"}}
	tls6 := target{node: v6tls, cookie: cookieFile(t, v6tls.Cookie),
		flags: []string{"--proto-dist", "inet6_tls", "--ssl-dist-optfile", sidecarOpts(t, clientCert, clientKey, ca.CAFile, "")}}
	plain := target{node: plainNode, cookie: cookieFile(t, plainNode.Cookie)}

	wantCheck(t, tcp6, v6.Name)
	wantCheck(t, tls6, v6tls.Name)
	sameReports(t, tcp6, plain)
	sameReports(t, tls6, plain)

	// The IPv4 sidecar against the IPv6 node: a usage error that says
	// which protocol to give.
	r := run(t, nil, "check", "--node", v6.Name, "--cookie-file", tcp6.cookie)
	if r.code != 2 || !contains(r.stderr, "--proto-dist inet6_tcp") {
		t.Errorf("inet_tcp against %s: exit %d %s, want 2 and the protocol to give", v6.Name, r.code, r.stderr)
	}
}
