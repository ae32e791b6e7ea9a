package tls_test

import (
	"sync"
	"testing"

	"github.com/mim-metrics/mim-metrics/test/erltest"
)

// TestTLSEjabberd: the real ejabberd, started with -proto_dist inet_tls
// and the cluster's ssl_dist_optfile, is checked, previewed and reported
// over TLS, and its reports equal those of the same ejabberd over plain
// TCP.
func TestTLSEjabberd(t *testing.T) {
	if !erltest.EjabberdAvailable() {
		t.Skip("ejabberd not installed")
	}
	t.Parallel()
	var wg sync.WaitGroup
	var tlsE, plainE *erltest.Ejabberd
	var tlsErr, plainErr error
	wg.Go(func() {
		tlsE, tlsErr = erltest.StartEjabberd(erltest.EjabberdOptions{Alive: erltest.UniqueName("ejtls"),
			DistArgs: append([]string{"-proto_dist", "inet_tls"}, tlsArgs(nodeOpts)...)})
	})
	wg.Go(func() {
		plainE, plainErr = erltest.StartEjabberd(erltest.EjabberdOptions{Alive: erltest.UniqueName("ejplain")})
	})
	wg.Wait()
	for _, e := range []*erltest.Ejabberd{tlsE, plainE} {
		if e != nil {
			t.Cleanup(e.Stop)
		}
	}
	if tlsErr != nil || plainErr != nil {
		t.Fatalf("start ejabberd: %v; %v", tlsErr, plainErr)
	}
	t.Logf("ejabberd started in %v (TLS) and %v (plain)", tlsE.StartDuration, plainE.StartDuration)
	tlsNode := &erltest.Node{Name: tlsE.Name(), Cookie: tlsE.Cookie()}
	plainNode := &erltest.Node{Name: plainE.Name(), Cookie: plainE.Cookie()}
	overTLS := target{node: tlsNode, cookie: cookieFile(t, tlsNode.Cookie),
		flags: []string{"--proto-dist", "inet_tls", "--ssl-dist-optfile", sidecarOpts(t, clientCert, clientKey, ca.CAFile, "")}}
	plain := target{node: plainNode, cookie: cookieFile(t, plainNode.Cookie)}
	wantCheck(t, overTLS, tlsNode.Name)
	sameReports(t, overTLS, plain)
}
