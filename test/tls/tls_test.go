package tls_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mim-metrics/mim-metrics/test/certtest"
	"github.com/mim-metrics/mim-metrics/test/erltest"
)

// TestTLSNode: check, preview and once reach a node of TLS distribution
// (verify_peer, fail_if_no_peer_cert) with the sidecar's own client
// certificate, by the options file and by the -ssl_dist_opt form, and the
// reports equal those of the same generation over plain TCP.
func TestTLSNode(t *testing.T) {
	t.Parallel()
	tlsNode := startTLSFixture(t, erltest.Options{Alive: erltest.UniqueName("tlsnode")})
	plainNode := erltest.StartFixtureT(t, gen, erltest.Options{Alive: erltest.UniqueName("plainnode")})
	byFile := target{node: tlsNode, cookie: cookieFile(t, tlsNode.Cookie),
		flags: []string{"--proto-dist", "inet_tls", "--ssl-dist-optfile", sidecarOpts(t, clientCert, clientKey, ca.CAFile, "")}}
	byOpts := target{node: tlsNode, cookie: byFile.cookie, flags: []string{"--proto-dist", "inet_tls",
		"--ssl-dist-opt", "client_certfile " + clientCert + " client_keyfile " + clientKey,
		"--ssl-dist-opt", "client_cacertfile=" + ca.CAFile, "--ssl-dist-opt", "client_verify=verify_peer"}}
	plain := target{node: plainNode, cookie: cookieFile(t, plainNode.Cookie)}

	wantCheck(t, byFile, tlsNode.Name)
	wantCheck(t, byOpts, tlsNode.Name)
	// server_name_indication disable checks the chain only; verify_none
	// checks nothing, and says so at start.
	noName := target{node: tlsNode, cookie: byFile.cookie, flags: []string{"--proto-dist", "inet_tls",
		"--ssl-dist-optfile", sidecarOpts(t, clientCert, clientKey, ca.CAFile, ", {server_name_indication, disable}")}}
	wantCheck(t, noName, tlsNode.Name)
	r := run(t, nil, "check", "--node", tlsNode.Name, "--cookie-file", byFile.cookie, "--proto-dist", "inet_tls",
		"--ssl-dist-opt", "client_certfile="+clientCert, "--ssl-dist-opt", "client_keyfile="+clientKey, "--ssl-dist-opt", "client_verify=verify_none")
	if r.code != 0 || !strings.Contains(r.stdout, "verify_none: the nodes' certificates are not checked") {
		t.Errorf("verify_none: exit %d: %s%s, want 0 and a warning", r.code, r.stdout, r.stderr)
	}
	sameReports(t, byFile, plain)

}

// TestTLSMismatches: every way the sidecar and a TLS cluster can
// disagree gives one line that names the problem, and exit 1.
func TestTLSMismatches(t *testing.T) {
	t.Parallel()
	tlsNode := startTLSFixture(t, erltest.Options{Alive: erltest.UniqueName("tlsmis")})
	plainNode, err := erltest.Start(erltest.Options{Alive: erltest.UniqueName("plainmis")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(plainNode.Stop)
	cookie := cookieFile(t, tlsNode.Cookie)
	tlsFlags := func(opts string) []string { return []string{"--proto-dist", "inet_tls", "--ssl-dist-optfile", opts} }
	good := sidecarOpts(t, clientCert, clientKey, ca.CAFile, "")
	cases := []struct {
		name   string
		target target
		want   []string
	}{
		{"plain sidecar, TLS node", target{node: tlsNode, cookie: cookie},
			[]string{"expects TLS distribution", "--proto-dist inet_tls", "--ssl-dist-optfile"}},
		{"TLS sidecar, plain node", target{node: plainNode, cookie: cookieFile(t, plainNode.Cookie), flags: tlsFlags(good)},
			[]string{"plain TCP distribution", "drop --proto-dist inet_tls"}},
		{"node's CA unknown to us", target{node: tlsNode, cookie: cookie, flags: tlsFlags(sidecarOpts(t, clientCert, clientKey, otherCA.CAFile, ""))},
			[]string{"not signed by a CA of our cacertfile", "unknown CA"}},
		{"our certificate of another CA", target{node: tlsNode, cookie: cookie, flags: tlsFlags(sidecarOpts(t, strangerCert, strangerKey, ca.CAFile, ""))},
			[]string{"does not trust our client certificate", "unknown CA"}},
		{"our certificate expired", target{node: tlsNode, cookie: cookie, flags: tlsFlags(sidecarOpts(t, expiredCert, expiredKey, ca.CAFile, ""))},
			[]string{"our client certificate", "expired"}},
		{"no client certificate", target{node: tlsNode, cookie: cookie, flags: []string{"--proto-dist", "inet_tls", "--ssl-dist-opt", "client_cacertfile=" + ca.CAFile}},
			[]string{"requires a client certificate and we sent none", "certfile"}},
		{"name mismatch", target{node: tlsNode, cookie: cookie, flags: tlsFlags(sidecarOpts(t, clientCert, clientKey, ca.CAFile, `, {server_name_indication, "db.example.org"}`))},
			[]string{"not for db.example.org", "name mismatch"}},
		{"wrong cookie over TLS", target{node: tlsNode, cookie: cookieFile(t, "WRONGCOOKIE"), flags: tlsFlags(good)},
			[]string{"wrong cookie"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantDiagnosis(t, c.target, "preview", c.want...)
		})
	}
}

// TestTLSCluster: the members a TLS seed is connected to are discovered
// and reached over TLS too.
func TestTLSCluster(t *testing.T) {
	t.Parallel()
	cookie := erltest.RandomCookie()
	first := startTLSFixture(t, erltest.Options{Alive: erltest.UniqueName("tlsa"), Cookie: cookie})
	second := startTLSFixture(t, erltest.Options{Alive: erltest.UniqueName("tlsb"), Cookie: cookie,
		Eval: fmt.Sprintf("true = net_kernel:connect_node('%s')", first.Name)})
	g := target{node: first, cookie: cookieFile(t, cookie),
		flags: []string{"--proto-dist", "inet_tls", "--ssl-dist-optfile", sidecarOpts(t, clientCert, clientKey, ca.CAFile, "")}}
	wantCheck(t, g, first.Name, second.Name)
}

// TestTLSNodeCertificateExpired: a node whose own certificate expired is
// named as such.
func TestTLSNodeCertificateExpired(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, key, err := ca.Issue(certtest.Spec{Name: "node-expired", DNS: []string{"localhost"}, Expired: true})
	if err != nil {
		t.Fatal(err)
	}
	opts := filepath.Join(dir, "expired-dist.conf")
	if err := certtest.OptFile(opts, cert, key, ca.CAFile); err != nil {
		t.Fatal(err)
	}
	n := erltest.StartFixtureT(t, gen, erltest.Options{Alive: erltest.UniqueName("tlsold"), Proto: "inet_tls", Args: tlsArgs(opts)})
	g := target{node: n, cookie: cookieFile(t, n.Cookie),
		flags: []string{"--proto-dist", "inet_tls", "--ssl-dist-optfile", sidecarOpts(t, clientCert, clientKey, ca.CAFile, "")}}
	wantDiagnosis(t, g, "preview", "the node's certificate has expired")
}
