package main

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// TestMetricsListenBadInput: a malformed --metrics-listen is bad usage
// (exit 2), an address in use a runtime failure (exit 1) before anything
// connects; both one line naming the flag or the address.
func TestMetricsListenBadInput(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"9090", "localhost:http-ish", "1.2.3.4:70000"} {
		code, _, stderr := runMain(t, []string{"run", "--node", "a@b", "--metrics-listen", addr}, nil)
		if code != exitUsage || !strings.Contains(stderr, "--metrics-listen") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("--metrics-listen %s: exit %d, %q; want exit 2 and one line naming the flag", addr, code, stderr)
		}
	}
	code, _, stderr := runMain(t, []string{"run", "--node", "a@b"}, map[string]string{"MIM_METRICS_METRICS_LISTEN": "nope"})
	if code != exitUsage || !strings.Contains(stderr, "--metrics-listen") {
		t.Errorf("MIM_METRICS_METRICS_LISTEN=nope: exit %d, %q", code, stderr)
	}

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	// The seed does not exist: the endpoint's failure must come first.
	code, _, stderr = runMain(t, []string{"run", "--report", "--node", "nobody@localhost", "--cookie", "x",
		"--state-dir", filepath.Join(dir, "state"), "--metrics-listen", busy.Addr().String()}, nil)
	if code != exitFailure || !strings.Contains(stderr, "cannot listen on "+busy.Addr().String()) {
		t.Errorf("address in use: exit %d, %q; want exit 1 naming the address", code, stderr)
	}
}
