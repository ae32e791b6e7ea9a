package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/mim-metrics/mim-metrics/test/testkit"
)

// The receiver links no Erlang distribution: it shares only package
// contract with the sidecar (and etf, the terms its declarations read as),
// never the sidecar's node or metrics, nor ergo.
func TestLinksNoErlangDistribution(t *testing.T) {
	t.Parallel()
	deps := testkit.Deps(t, "github.com/mim-metrics/mim-metrics/contract")
	for _, d := range deps {
		if strings.Contains(strings.ToLower(d), "ergo") || slices.Contains([]string{
			"github.com/mim-metrics/mim-metrics/metrics", "github.com/mim-metrics/mim-metrics/node"}, d) {
			t.Errorf("the receiver links %s", d)
		}
	}
}
