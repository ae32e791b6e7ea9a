package erltest

import (
	"context"
	"testing"
	"time"
)

// TestStartTwoNodes: B is connected to A once both have started, B's own
// Eval ran after the join, and a restarted B joins A again.
func TestStartTwoNodes(t *testing.T) {
	Require(t)
	epmdMu.Lock()
	ownEPMD := epmdCmd == nil
	epmdMu.Unlock()
	var a, b *Node
	t.Cleanup(func() { // after the nodes' own cleanups
		epmdMu.Lock()
		idle := true
		for _, n := range started {
			idle = idle && (n == a || n == b)
		}
		epmdMu.Unlock()
		if ownEPMD && idle {
			Cleanup()
		}
	})
	alive := UniqueName("a")
	// B's Eval fails its start unless the join ran first.
	a, b = StartTwoNodesT(t, "mim-6.2.1", TwoNodes{A: Options{Alive: alive},
		B: Options{Eval: "true = lists:member('" + alive + "@localhost', nodes())"}})
	if a.Cookie != b.Cookie {
		t.Fatalf("cookies %q and %q", a.Cookie, b.Cookie)
	}
	joined := func(what string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if out, err := a.Eval(ctx, "lists:member('"+b.Name+"', nodes())"); err != nil || out != "true" {
			t.Fatalf("%s: %s among A's nodes: %s %v", what, b.Name, out, err)
		}
	}
	joined("started")
	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
	joined("B restarted")
}
