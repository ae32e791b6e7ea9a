package main

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// The receiver links no Erlang distribution: it shares only package
// contract with the sidecar, never the sidecar's node, etf or metrics (nor
// ergo through them).
func TestLinksNoErlangDistribution(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 || !slices.Contains(deps, "github.com/mim-metrics/mim-metrics/contract") {
		t.Fatalf("go list -deps gave %d packages, without contract: %v", len(deps), deps)
	}
	for _, d := range deps {
		if strings.Contains(strings.ToLower(d), "ergo") || slices.Contains([]string{
			"github.com/mim-metrics/mim-metrics/metrics", "github.com/mim-metrics/mim-metrics/node",
			"github.com/mim-metrics/mim-metrics/etf"}, d) {
			t.Errorf("the receiver links %s", d)
		}
	}
}
