package tls_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/mim-metrics/mim-metrics/etf"
	"github.com/mim-metrics/mim-metrics/metrics"
	"github.com/mim-metrics/mim-metrics/node"
	"github.com/mim-metrics/mim-metrics/test/erltest"
)

// dialTLS starts a hidden node that speaks TLS distribution with the
// sidecar's client certificate.
func dialTLS(t *testing.T, seed *erltest.Node) *node.Cluster {
	t.Helper()
	opts, err := node.ReadSSLDistOptFile(sidecarOpts(t, clientCert, clientKey, ca.CAFile, ""))
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := opts.Config()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := node.Start(context.Background(), node.Options{Seeds: []string{seed.Name}, Cookie: seed.Cookie,
		Dist: node.Dist{Proto: "inet_tls", TLS: cfg}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// atoms reads a list of atoms.
func atoms(t *testing.T, term etf.Term) []string {
	t.Helper()
	elems, ok := etf.Elems(term)
	if !ok {
		t.Fatalf("not a list: %v", term)
	}
	var out []string
	for _, e := range elems {
		if a, ok := e.(etf.Atom); ok {
			out = append(out, string(a))
		}
	}
	return out
}

// TestTLSSameGuarantees: over TLS the sidecar is still hidden (nodes() on
// the node does not list it, nodes(hidden) does), loads nothing, and a
// collection takes as many round trips as over plain TCP.
func TestTLSSameGuarantees(t *testing.T) {
	t.Parallel()
	tlsNode := startTLSFixture(t, erltest.Options{Alive: erltest.UniqueName("tlshid")})
	plainNode := erltest.StartFixtureT(t, gen, erltest.Options{Alive: erltest.UniqueName("plainhid")})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	tlsCl := dialTLS(t, tlsNode)
	plainCl, err := node.Start(ctx, node.Options{Seeds: []string{plainNode.Name}, Cookie: plainNode.Cookie})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(plainCl.Close)

	// The modules loaded before the collections: afterwards, only OTP's
	// own may be added (loaded on demand by the functions erl_eval calls),
	// none of the sidecar's.
	v, err := tlsCl.Eval(ctx, tlsNode.Name, "[M || {M, _} <- code:all_loaded()].", nil)
	if err != nil {
		t.Fatal(err)
	}
	var before etf.List
	for _, m := range atoms(t, v) {
		before = append(before, etf.Atom(m))
	}

	calls := func(cl *node.Cluster, n *erltest.Node) (first, steady int64) {
		t.Helper()
		c := metrics.NewCollector(cl, nil)
		base := cl.Stats(n.Name).Calls // the call listing the loaded modules
		if _, err := c.Collect(ctx); err != nil {
			t.Fatal(err)
		}
		first = cl.Stats(n.Name).Calls - base
		if _, err := c.Collect(ctx); err != nil {
			t.Fatal(err)
		}
		return first, cl.Stats(n.Name).Calls - base - first
	}
	tf, ts := calls(tlsCl, tlsNode)
	pf, ps := calls(plainCl, plainNode)
	if tf != pf || ts != ps {
		t.Errorf("round trips over TLS: %d in a first collection, %d in the next; over plain TCP %d and %d", tf, ts, pf, ps)
	}
	added, err := tlsCl.Eval(ctx, tlsNode.Name, `[M || {M, F} <- code:all_loaded(), not lists:member(M, Before),
		not (is_list(F) andalso lists:prefix(code:root_dir(), F))].`, map[string]any{"Before": before})
	if err != nil {
		t.Fatal(err)
	}
	if extra := atoms(t, added); len(extra) != 0 {
		t.Errorf("the collections over TLS loaded modules that are not OTP's: %v", extra)
	}
	visible, err := tlsCl.Call(ctx, tlsNode.Name, "erlang", "nodes")
	if err != nil {
		t.Fatal(err)
	}
	hidden, err := tlsCl.Call(ctx, tlsNode.Name, "erlang", "nodes", etf.Atom("hidden"))
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(atoms(t, visible), tlsCl.Name()) || !slices.Contains(atoms(t, hidden), tlsCl.Name()) {
		t.Errorf("nodes() %v, nodes(hidden) %v: want %s in the hidden ones only", visible, hidden, tlsCl.Name())
	}
}
